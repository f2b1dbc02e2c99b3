// PsClient over tables in this process (a loaded model, or single-process
// training): the same tables and optimizers, no network.
#ifndef PSREC_WORKER_LOCAL_PS_CLIENT_H_
#define PSREC_WORKER_LOCAL_PS_CLIENT_H_

#include "server/shard_state.h"
#include "worker/ps_client.h"

namespace psrec {

class LocalPsClient : public PsClient {
 public:
  // `shard` must outlive the client.
  explicit LocalPsClient(ShardState* shard) : shard_(shard) {}
  absl::Status Pull(absl::Span<const PullOp> ops, bool read_only) override;
  absl::Status Push(absl::Span<const PushOp> ops) override;

 private:
  ShardState* shard_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_LOCAL_PS_CLIENT_H_
