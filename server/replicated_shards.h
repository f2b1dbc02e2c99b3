// A server's replicas of logical shards under --replicas=2 (chain
// replication, Li et al. 2014 section 4.3; README "Replication"). It follows
// the coordinator's shard map (polled, and fetched at once when a request
// names a newer version), holds one ShardState per logical shard this server
// is primary or backup of, and:
//  - answers pulls and pushes only for shards it is primary of in its current
//    map (fencing: FAILED_PRECONDITION naming both map versions otherwise);
//  - acknowledges a push only once the shard's backup applied it (Forward);
//    a backup that fails a forward is dropped from the chain through the
//    coordinator, so training never blocks on a dead backup;
//  - as a backup, applies forwards only from a primary with its own map
//    version: a cut-off old primary cannot get writes acknowledged;
//  - as a joining server (re-replication of a degraded shard), copies the
//    shard from its primary (Copy: a snapshot taken while pushes to the shard
//    wait, plus its dedup windows), buffers the forwards of pushes applied
//    after the snapshot until the copy is installed, then tells the
//    coordinator it holds a full copy and becomes the backup.
// Duplicates (same worker and seq) are applied once on primary and backup
// alike; the primary forwards a duplicate anyway, since the backup may have
// missed it. Thread-safe.
#ifndef PSREC_SERVER_REPLICATED_SHARDS_H_
#define PSREC_SERVER_REPLICATED_SHARDS_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/rpc_options.h"
#include "proto/psrec.grpc.pb.h"
#include "server/ps_request_router.h"
#include "server/ps_service.h"

namespace psrec {

class ReplicatedShards final : public PsRequestRouter, public rpc::Replica::Service {
 public:
  ReplicatedShards() = default;
  ~ReplicatedShards() override;

  // Starts following the map of the coordinator at `coordinator`; this
  // process is server `server_index`. Requests answer UNAVAILABLE until the
  // first map arrives.
  // `rpc` (TLS, token) is how the coordinator and the other servers are dialed.
  absl::Status Configure(const rpc::RunConfig& config, uint32_t server_index,
                         const std::string& coordinator, const RpcOptions& rpc);

  grpc::Status Pull(grpc::ServerContext*, const rpc::PullRequest*, rpc::PullResponse*) override;
  grpc::Status Push(grpc::ServerContext*, const rpc::PushRequest*, rpc::PushResponse*) override;
  grpc::Status Stats(grpc::ServerContext*, const rpc::StatsRequest*,
                     rpc::StatsResponse*) override;
  grpc::Status Save(grpc::ServerContext*, const rpc::SaveRequest*, rpc::SaveResponse*) override;
  grpc::Status Forward(grpc::ServerContext*, const rpc::PushRequest*,
                       rpc::PushResponse*) override;
  grpc::Status Copy(grpc::ServerContext*, const rpc::ReplicaCopyRequest*,
                    grpc::ServerWriter<rpc::ReplicaCopyChunk>*) override;

  // Installs `map` if it is newer than the current one (public for tests);
  // returns whether it did.
  bool ApplyMap(const rpc::ShardMap& map);
  uint64_t map_version() const;

 private:
  // One logical shard held here (as primary, backup or joiner).
  struct Replica {
    std::unique_ptr<ParameterServerService> service;
    ShardState* state = nullptr;  // owned by `service`
    // Pushes hold it shared from applying to reading `joiner`; a copy's
    // snapshot holds it exclusively, so every push is either in the
    // snapshot or forwarded to the joiner.
    absl::Mutex copy_mu;
    int32_t joiner ABSL_GUARDED_BY(copy_mu) = -1;
    // Joiner side: forwards that arrive before the copy is installed.
    absl::Mutex install_mu;
    bool installed ABSL_GUARDED_BY(install_mu) = true;
    std::vector<rpc::PushRequest> buffered ABSL_GUARDED_BY(install_mu);
  };

  // The shard replica a worker's request may use: this server must be the
  // shard's primary in the current map (after fetching a newer map when the
  // request names one).
  grpc::Status ResolvePrimary(uint64_t version, bool has_shard, uint32_t shard,
                              Replica** out);
  // Fetches the coordinator's map now.
  absl::Status Refresh();
  // Sends the applied push to the shard's backup, dropping a backup that
  // cannot be reached. OK: the push may be acknowledged.
  // `joiner`: the joiner the push saw when it was applied (-1: none).
  grpc::Status ForwardToBackup(const rpc::PushRequest& req, uint32_t shard, int32_t joiner);
  // Joiner side: copies `shard` from its primary, then reports to the
  // coordinator.
  void CopyFromPrimary(uint32_t shard, Replica* replica, std::string primary_address,
                       uint64_t version, uint64_t run_id);
  rpc::Replica::Stub* BackupStub(uint32_t server) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  rpc::RunConfig config_;
  RpcOptions rpc_;  // how the coordinator and other servers are dialed
  uint32_t me_ = 0;
  std::unique_ptr<rpc::Coordinator::Stub> coordinator_;
  absl::Notification stop_;
  std::thread poller_;

  mutable absl::Mutex mu_;
  rpc::ShardMap map_ ABSL_GUARDED_BY(mu_);  // version 0: none yet
  // By logical shard; entries are never removed, so pointers stay valid.
  absl::flat_hash_map<uint32_t, std::unique_ptr<Replica>> shards_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> copiers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, std::unique_ptr<rpc::Replica::Stub>> backup_stubs_
      ABSL_GUARDED_BY(mu_);
  absl::Mutex refresh_mu_;  // one map fetch at a time
};

}  // namespace psrec

#endif  // PSREC_SERVER_REPLICATED_SHARDS_H_
