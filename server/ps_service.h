// The parameter-server gRPC service over one server's shard of every table.
#ifndef PSREC_SERVER_PS_SERVICE_H_
#define PSREC_SERVER_PS_SERVICE_H_

#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/rpc_options.h"
#include "common/shutdown_signal.h"
#include "proto/psrec.grpc.pb.h"
#include "server/ordered_push_buffer.h"
#include "server/param_averager.h"
#include "server/ps_request_router.h"
#include "server/push_dedup.h"
#include "server/shard_state.h"

namespace psrec {

class ParameterServerService final : public rpc::ParameterServer::Service {
 public:
  // The service answers UNAVAILABLE until SetShard() is called (the server
  // binds its port before it knows its configuration).
  // `shutdown` (may be null) is requested by the Shutdown RPC. A pull or push
  // of more than `max_keys_per_request` keys gets RESOURCE_EXHAUSTED
  // (clients split their requests below it).
  explicit ParameterServerService(ShutdownSignal* shutdown,
                                  size_t max_keys_per_request = kDefaultMaxKeysPerRequest)
      : shutdown_(shutdown), max_keys_per_request_(max_keys_per_request) {}
  void SetShard(std::unique_ptr<ShardState> shard);
  // bsp: applies every push still buffered for its clock (they were
  // acknowledged), e.g. before a snapshot of the shard is written.
  void ApplyBufferedPushes() { ordered_pushes_.ApplyAll(); }
  // Replication: Pull, Push, Stats and Save go to `router` (which outlives
  // this service) instead of a shard of its own.
  void set_router(PsRequestRouter* router) { router_.store(router, std::memory_order_release); }
  // rpc::ShardMap.run_id of this server's run (from its registration): pulls,
  // pushes and saves of another run are refused (common/run_fence.h).
  void set_run_id(uint64_t id) { run_id_.store(id, std::memory_order_release); }
  // Which pushes this service applied (replication copies it to a joiner).
  PushDedupWindow& dedup() { return dedup_; }

  grpc::Status Pull(grpc::ServerContext*, const rpc::PullRequest*, rpc::PullResponse*) override;
  grpc::Status Push(grpc::ServerContext*, const rpc::PushRequest*, rpc::PushResponse*) override;
  // Each request as Pull / Push would answer it alone, in order; stops at
  // the first failure and returns its status.
  grpc::Status PullBatch(grpc::ServerContext*, const rpc::PullBatchRequest*,
                             rpc::PullBatchResponse*) override;
  grpc::Status PushBatch(grpc::ServerContext*, const rpc::PushBatchRequest*,
                             rpc::PushBatchResponse*) override;
  grpc::Status Stats(grpc::ServerContext*, const rpc::StatsRequest*,
                     rpc::StatsResponse*) override;
  grpc::Status Save(grpc::ServerContext*, const rpc::SaveRequest*, rpc::SaveResponse*) override;
  grpc::Status Shutdown(grpc::ServerContext*, const rpc::ShutdownRequest*,
                        rpc::ShutdownResponse*) override;

 private:
  ShardState* shard() const;
  // CheckRunId against this server's run, counting a refusal.
  grpc::Status CheckRun(uint64_t request_run);
  // Validates version, table and key array; counts and returns the error.
  grpc::Status Validate(uint32_t version, uint32_t table, const std::string& keys,
                        EmbeddingTable** out);

  mutable absl::Mutex mu_;
  std::unique_ptr<ShardState> shard_ ABSL_GUARDED_BY(mu_);
  std::atomic<ShardState*> shard_ptr_{nullptr};
  std::atomic<PsRequestRouter*> router_{nullptr};
  std::atomic<uint64_t> run_id_{0};
  // Pushes applied, by (worker_id, seq): retries are applied once.
  PushDedupWindow dedup_;
  ShutdownSignal* shutdown_;
  const size_t max_keys_per_request_;
  std::atomic<uint64_t> pulls_{0}, pushes_{0}, rejected_{0}, nonfinite_{0}, over_limit_{0};
  // bsp: pushes tagged with a clock wait here (README "Consistency").
  OrderedPushBuffer ordered_pushes_;
  // Tail averaging, driven by Save requests with `average` set.
  ParameterAverager averager_;
};

}  // namespace psrec

#endif  // PSREC_SERVER_PS_SERVICE_H_
