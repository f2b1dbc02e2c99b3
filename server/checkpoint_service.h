// The server side of checkpoint rounds: the coordinator asks, the server
// writes its shard (server/checkpoint_store.h). Also writes the final
// snapshot on SIGTERM. Thread-safe; one write at a time.
#ifndef PSREC_SERVER_CHECKPOINT_SERVICE_H_
#define PSREC_SERVER_CHECKPOINT_SERVICE_H_

#include <atomic>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/prometheus.h"
#include "proto/checkpoint.grpc.pb.h"
#include "server/shard_state.h"

namespace psrec {

class CheckpointService final : public rpc::ShardCheckpointer::Service {
 public:
  // `own_dir`: the server's --checkpoint_dir; "" writes where the coordinator
  // says (its --checkpoint_dir). Metrics go to `registry`.
  CheckpointService(std::string own_dir, PrometheusRegistry* registry);

  // Answers UNAVAILABLE until the shard is set (after any restore).
  void SetShard(const ShardState* shard);
  // This server's run (rpc::ShardMap.run_id): another run's coordinator must
  // not have its rounds written into its directory (common/run_fence.h).
  void set_run_id(uint64_t id) { run_id_.store(id); }
  // The directory checkpoints of this server go to, given the coordinator's.
  std::string DirFor(const std::string& coordinator_dir) const {
    return own_dir_.empty() ? coordinator_dir : own_dir_;
  }

  grpc::Status WriteCheckpoint(grpc::ServerContext*, const rpc::ShardCheckpointRequest*,
                               rpc::ShardCheckpointResponse*) override;

  // The SIGTERM snapshot into `coordinator_dir` (or the own dir), tagged
  // with the newest complete round known. OK and nothing written when
  // checkpoints are off or the shard was never set.
  absl::Status WriteFinal(const std::string& coordinator_dir, uint64_t last_complete_round);

 private:
  const std::string own_dir_;
  Histogram* seconds_;
  Counter* failures_;
  Counter* written_;
  absl::Mutex mu_;  // serializes writes
  std::atomic<const ShardState*> shard_{nullptr};
  std::atomic<uint64_t> run_id_{0};
};

}  // namespace psrec

#endif  // PSREC_SERVER_CHECKPOINT_SERVICE_H_
