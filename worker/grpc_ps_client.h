// PsClient over gRPC: slices each op's keys by owning server (the shard
// map's ring), sends one request per table per server (split into chunks of
// at most kMaxKeysPerChunk keys), all in flight at once, and scatters the
// answers back into key order. Retries UNAVAILABLE with backoff, then fails
// with an error naming the server's address.
// Replication: keys map to logical shards (the ring's owners) and each shard
// to its primary server; every request names the map version and the logical
// shard (fencing), and the run (the map's run_id: a server of another run at a
// re-used address refuses it). On UNAVAILABLE or a fencing refusal the client fetches the
// map again (set_map_source) and re-routes. Each push call carries (worker
// id, seq) and keeps its seq across retries and re-routes, so the servers
// apply it once.
#ifndef PSREC_WORKER_GRPC_PS_CLIENT_H_
#define PSREC_WORKER_GRPC_PS_CLIENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
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
  // consistency.h ClockTag; 0: untagged); pushes carry `worker_id` (the same
  // id as set_worker_id's).
  void set_clock(uint64_t tag, uint32_t worker_id) {
    clock_tag_ = tag;
    worker_id_ = worker_id;
  }
  // Where a fresh shard map comes from when a server is unreachable or
  // refuses a request for a shard it no longer holds (usually the
  // coordinator). Unset: the map given to Create() is kept.
  void set_map_source(std::function<absl::StatusOr<rpc::ShardMap>()> source) {
    map_source_ = std::move(source);
  }
  // The worker id pushes are deduplicated under; workers set theirs.
  void set_worker_id(uint32_t id) { worker_id_ = id; }
  // Until then (psrec train's own pushes, --init_gmf/--init_mlp): an id no
  // worker has. Sharing a worker's id would mix two clients' seqs in one
  // dedup window, and the server would refuse the older ones.
  static constexpr uint32_t kNoWorkerId = 0xffffffffu;
  uint64_t map_version() const;

  // Asks every server to write its shard of the model into `dir`.
  absl::Status SaveAll(const std::string& dir);
  // Parameter averaging on every live server, every replica of a shard
  // (server/param_averager.h): SNAPSHOT adds the live parameters to the
  // running mean, APPLY makes the mean the live parameters. Returns the
  // smallest snapshot count any server reported (a server restarted in the
  // meantime has fewer).
  absl::StatusOr<uint32_t> AverageAll(rpc::SaveAverage action);
  // Per-server statistics, in server index order.
  absl::StatusOr<std::vector<rpc::StatsResponse>> StatsAll();
  uint32_t num_servers() const;

  static constexpr size_t kMaxKeysPerChunk = 8192;

 private:
  GrpcPsClient() = default;
  struct Slice;  // keys of one op bound for one logical shard
  struct Route;  // where a logical shard is served, in one map version
  struct Group;  // slices of several ops that travel in one call
  std::vector<Slice> SliceByShard(uint32_t table, absl::Span<const uint64_t> keys) const;
  // Slices every op's keys by shard, then packs the slices of a shard into
  // calls of at most max_keys_per_chunk_ keys in all: a batch's small
  // tables (dense tensors, a few hundred rows) share one call per shard,
  // while a large op still spreads over parallel calls.
  template <typename Op>
  std::vector<Group> GroupByShard(absl::Span<const Op> ops) const;
  absl::Status InstallMap(const rpc::ShardMap& map);
  // Fetches a newer map from the map source, if any; false when none.
  bool RefreshMap();
  // The server of logical shard `shard` (or, for kNoShard, server `server`).
  Route RouteOf(uint32_t shard, uint32_t server) const;
  // Servers that serve at least one shard now (all of them without replicas).
  std::vector<uint32_t> ServingServers() const;
  // Sends every call in parallel and waits; retries UNAVAILABLE (and, with a
  // map source, fencing refusals) after re-routing, until the retry budget
  // is spent. `issue` starts one call: issue(stub, ctx, req, resp, on_done).
  template <typename Call, typename Issue>
  absl::Status RunAll(std::vector<Call>& calls, const char* what, Issue issue);

  mutable absl::Mutex mu_;
  Ring ring_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t run_id_ ABSL_GUARDED_BY(mu_) = 0;  // the map's: sent on every request
  std::vector<uint32_t> primaries_ ABSL_GUARDED_BY(mu_);  // by logical shard
  std::vector<bool> alive_ ABSL_GUARDED_BY(mu_);          // by server
  std::vector<std::string> addresses_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<rpc::ParameterServer::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
  std::function<absl::StatusOr<rpc::ShardMap>()> map_source_;
  uint32_t worker_id_ = kNoWorkerId;
  std::atomic<uint64_t> next_seq_{1};
  std::vector<uint32_t> dims_;  // by table id
  std::vector<bool> dense_;     // by table id
  absl::Duration retry_budget_;
  size_t max_keys_per_chunk_ = kMaxKeysPerChunk;
  std::function<bool()> cancelled_ = [] { return false; };
  uint64_t clock_tag_ = 0;
  RpcOptions rpc_;  // how channels to servers are made
};

}  // namespace psrec

#endif  // PSREC_WORKER_GRPC_PS_CLIENT_H_
