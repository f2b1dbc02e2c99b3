// PsClient over gRPC: slices each op's keys by owning server (the shard
// map's ring), sends one request per table per server (split into chunks of
// at most kMaxKeysPerChunk keys), all in flight at once, and scatters the
// answers back into key order. Retries UNAVAILABLE with backoff, then fails
// with an error naming the server's address.
#ifndef PSREC_WORKER_GRPC_PS_CLIENT_H_
#define PSREC_WORKER_GRPC_PS_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/model_spec.h"
#include "common/rpc_options.h"
#include "common/shard_map.h"
#include "proto/psrec.grpc.pb.h"
#include "worker/ps_client.h"

namespace psrec {

class GrpcPsClient : public PsClient {
 public:
  // `rpc`: how channels are secured, and the servers' keys-per-request limit
  // (requests are split below it).
  static absl::StatusOr<std::unique_ptr<GrpcPsClient>> Create(
      const rpc::ShardMap& map, const std::vector<TableConfig>& tables, const RpcOptions& rpc,
      absl::Duration retry_budget = absl::Seconds(30));

  absl::Status Pull(absl::Span<const PullOp> ops, bool read_only) override;
  absl::Status Push(absl::Span<const PushOp> ops) override;

  // Retries stop (with CANCELLED) once `cancelled()` is true: a worker told
  // to shut down must not keep retrying servers that are going away.
  void set_cancel(std::function<bool()> cancelled) { cancelled_ = std::move(cancelled); }
  // bsp: tags the following pulls and pushes with this clock (common/
  // consistency.h ClockTag; 0: untagged) and pushes with the worker's id.
  void set_clock(uint64_t tag, uint32_t worker_id) {
    clock_tag_ = tag;
    worker_id_ = worker_id;
  }

  // Asks every server to write its shard of the model into `dir`.
  absl::Status SaveAll(const std::string& dir);
  // Per-server statistics, in server index order.
  absl::StatusOr<std::vector<rpc::StatsResponse>> StatsAll();
  uint32_t num_servers() const { return static_cast<uint32_t>(stubs_.size()); }

  static constexpr size_t kMaxKeysPerChunk = 8192;

 private:
  GrpcPsClient() = default;
  struct Slice;  // keys of one op bound for one server
  std::vector<Slice> SliceByServer(uint32_t table, absl::Span<const uint64_t> keys) const;

  Ring ring_;
  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<rpc::ParameterServer::Stub>> stubs_;
  std::vector<uint32_t> dims_;  // by table id
  std::vector<bool> dense_;     // by table id
  absl::Duration retry_budget_;
  size_t max_keys_per_chunk_ = kMaxKeysPerChunk;
  std::function<bool()> cancelled_ = [] { return false; };
  uint64_t clock_tag_ = 0;
  uint32_t worker_id_ = 0;
};

}  // namespace psrec

#endif  // PSREC_WORKER_GRPC_PS_CLIENT_H_
