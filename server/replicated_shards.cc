#include "server/replicated_shards.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/rpc_util.h"

namespace psrec {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(500);
constexpr absl::Duration kCoordinatorDeadline = absl::Seconds(3);
// A backup slower than this to apply a forward is treated as failed and
// dropped from the chain: training must not block on it.
constexpr absl::Duration kForwardDeadline = absl::Seconds(5);
// Map changes a push may meet while it is forwarded before it gives up.
constexpr int kForwardAttempts = 4;

int32_t BackupOf(const rpc::ShardMap& m, uint32_t shard) {
  return shard < static_cast<uint32_t>(m.shard_backups_size()) ? m.shard_backups(shard) : -1;
}
int64_t PrimaryOf(const rpc::ShardMap& m, uint32_t shard) {
  return shard < static_cast<uint32_t>(m.shard_primaries_size()) ? m.shard_primaries(shard) : -1;
}

}  // namespace

ReplicatedShards::~ReplicatedShards() {
  stop_.Notify();
  if (poller_.joinable()) poller_.join();
}

absl::Status ReplicatedShards::Configure(const rpc::RunConfig& config, uint32_t server_index,
                                         const std::string& coordinator) {
  config_ = config;
  me_ = server_index;
  coordinator_ = rpc::Coordinator::NewStub(MakeChannel(coordinator));
  poller_ = std::thread([this] {
    do {
      if (auto s = Refresh(); !s.ok()) spdlog::debug("shard map: {}", std::string(s.message()));
    } while (!stop_.WaitForNotificationWithTimeout(kPollInterval));
  });
  return absl::OkStatus();
}

uint64_t ReplicatedShards::map_version() const {
  absl::MutexLock lock(&mu_);
  return map_.version();
}

absl::Status ReplicatedShards::Refresh() {
  absl::MutexLock fetch(&refresh_mu_);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, kCoordinatorDeadline);
  rpc::ShardMapRequest req;
  req.set_protocol_version(kProtocolVersion);
  rpc::ShardMapResponse resp;
  grpc::Status s = coordinator_->GetShardMap(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s, "shard map from the coordinator");
  if (resp.ready()) ApplyMap(resp.map());
  return absl::OkStatus();
}

bool ReplicatedShards::ApplyMap(const rpc::ShardMap& map) {
  absl::MutexLock lock(&mu_);
  if (map.version() <= map_.version()) return false;
  const bool first = map_.version() == 0;
  const uint32_t shards = static_cast<uint32_t>(map.shard_primaries_size());
  for (uint32_t j = 0; j < shards; ++j) {
    const bool primary = map.shard_primaries(j) == me_;
    const bool backup = BackupOf(map, j) == static_cast<int32_t>(me_);
    const bool was_primary = PrimaryOf(map_, j) == me_;
    if (!primary && !backup) continue;
    if (!shards_.contains(j)) {
      // Only the first map hands out empty replicas: every shard starts empty
      // on primary and backup alike (rows initialize deterministically).
      if (!first) {
        spdlog::error("shard map {}: this server is to hold shard {} but has no copy of it",
                      map.version(), j);
        continue;
      }
      auto state = ShardState::Create(config_, j);
      if (!state.ok()) {
        spdlog::error("shard {}: {}", j, std::string(state.status().message()));
        continue;
      }
      auto service = std::make_unique<ParameterServerService>(nullptr);
      service->SetShard(std::move(*state));
      shards_[j] = std::move(service);
    }
    if (primary && !was_primary && !first) {
      spdlog::warn("shard map {}: promoted to primary of shard {}", map.version(), j);
    }
    if (primary && BackupOf(map, j) < 0) {
      if (first || BackupOf(map_, j) >= 0 || !was_primary) {
        spdlog::warn("shard map {}: shard {} runs degraded (no backup)", map.version(), j);
      }
    }
  }
  if (first) {
    spdlog::info("shard map {}: replicas {}, this server holds {} shard replicas", map.version(),
                 map.replicas(), shards_.size());
  }
  map_ = map;
  return true;
}

grpc::Status ReplicatedShards::ResolvePrimary(uint64_t version, bool has_shard, uint32_t shard,
                                              ParameterServerService** out) {
  if (!has_shard) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "a replicated run (--replicas=2) needs requests that name their logical "
                        "shard: run the same psrec build everywhere");
  }
  if (version > map_version()) (void)Refresh();
  absl::MutexLock lock(&mu_);
  if (map_.version() == 0) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server has no shard map yet");
  }
  if (version > map_.version()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrFormat("request has shard map version %d, server %d only %d "
                                        "(coordinator unreachable?)",
                                        version, me_, map_.version()));
  }
  const int64_t primary = PrimaryOf(map_, shard);
  auto it = shards_.find(shard);
  if (primary != me_ || it == shards_.end()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrFormat("shard map version %d (request) vs %d (server %d): "
                                        "logical shard %d is served by server %d, not this one",
                                        version, map_.version(), me_, shard, primary));
  }
  *out = it->second.get();
  return grpc::Status::OK;
}

grpc::Status ReplicatedShards::Pull(grpc::ServerContext* ctx, const rpc::PullRequest* req,
                                    rpc::PullResponse* resp) {
  ParameterServerService* shard = nullptr;
  grpc::Status s =
      ResolvePrimary(req->map_version(), req->has_logical_shard(), req->logical_shard(), &shard);
  if (!s.ok()) return s;
  return shard->Pull(ctx, req, resp);
}

grpc::Status ReplicatedShards::Push(grpc::ServerContext* ctx, const rpc::PushRequest* req,
                                    rpc::PushResponse* resp) {
  ParameterServerService* shard = nullptr;
  grpc::Status s =
      ResolvePrimary(req->map_version(), req->has_logical_shard(), req->logical_shard(), &shard);
  if (!s.ok()) return s;
  s = shard->Push(ctx, req, resp);
  if (!s.ok()) return s;
  return ForwardToBackup(*req, req->logical_shard());
}

rpc::Replica::Stub* ReplicatedShards::BackupStub(uint32_t server) {
  auto& stub = backup_stubs_[server];
  if (!stub) stub = rpc::Replica::NewStub(MakeChannel(map_.server_addresses(server)));
  return stub.get();
}

grpc::Status ReplicatedShards::ForwardToBackup(const rpc::PushRequest& req, uint32_t shard) {
  rpc::PushRequest fwd = req;
  for (int attempt = 0; attempt < kForwardAttempts; ++attempt) {
    rpc::Replica::Stub* stub = nullptr;
    int32_t backup = -1;
    {
      absl::MutexLock lock(&mu_);
      if (PrimaryOf(map_, shard) != me_) {
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            absl::StrFormat("shard map version %d (request) vs %d (server %d): "
                                            "logical shard %d moved to server %d during the push",
                                            req.map_version(), map_.version(), me_, shard,
                                            PrimaryOf(map_, shard)));
      }
      backup = BackupOf(map_, shard);
      if (backup < 0) return grpc::Status::OK;  // degraded: nothing to wait for
      fwd.set_map_version(map_.version());
      stub = BackupStub(static_cast<uint32_t>(backup));
    }
    grpc::ClientContext ctx;
    SetDeadline(&ctx, kForwardDeadline);
    rpc::PushResponse fwd_resp;
    grpc::Status s = stub->Forward(&ctx, fwd, &fwd_resp);
    if (s.ok()) return s;
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      // The backup has another map: fetch the coordinator's and try again
      // (or learn that this server is no longer the primary).
      if (auto r = Refresh(); !r.ok()) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            absl::StrFormat("backup refused the forward (%s) and %s",
                                            s.error_message(), r.message()));
      }
      continue;
    }
    if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      return s;  // the request itself is bad; the primary would have said so
    }
    // Unreachable or too slow: out of the chain, so the push can be acked.
    rpc::ReplicaDropRequest drop;
    drop.set_logical_shard(shard);
    drop.set_backup(static_cast<uint32_t>(backup));
    drop.set_primary(me_);
    drop.set_reason(absl::StrFormat("forward failed: %s", s.error_message()));
    grpc::ClientContext dctx;
    SetDeadline(&dctx, kCoordinatorDeadline);
    rpc::ReplicaDropResponse dresp;
    grpc::Status d = coordinator_->ReplicaDropBackup(&dctx, drop, &dresp);
    if (!d.ok()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          absl::StrFormat("backup server %d failed (%s) and the coordinator is "
                                          "unreachable (%s): push not acknowledged",
                                          backup, s.error_message(), d.error_message()));
    }
    // Concurrent pushes meet the same failure; the first to install the
    // new map says so.
    if (ApplyMap(dresp.map())) {
      spdlog::warn("shard {}: backup server {} failed a forward ({}); dropped from the chain",
                   shard, backup, s.error_message());
    }
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrFormat("shard %d: the shard map kept changing while forwarding a "
                                      "push; not acknowledged",
                                      shard));
}

grpc::Status ReplicatedShards::Forward(grpc::ServerContext* ctx, const rpc::PushRequest* req,
                                       rpc::PushResponse* resp) {
  if (req->map_version() > map_version()) (void)Refresh();
  ParameterServerService* shard = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (req->map_version() != map_.version()) {
      return grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrFormat("forward with shard map version %d, backup server %d has version %d%s",
                          req->map_version(), me_, map_.version(),
                          req->map_version() < map_.version() ? ": the sender is fenced off" : ""));
    }
    auto it = shards_.find(req->logical_shard());
    if (BackupOf(map_, req->logical_shard()) != static_cast<int32_t>(me_) ||
        it == shards_.end()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrFormat("shard map version %d: server %d is not the backup of "
                                          "logical shard %d",
                                          map_.version(), me_, req->logical_shard()));
    }
    shard = it->second.get();
  }
  return shard->Push(ctx, req, resp);
}

grpc::Status ReplicatedShards::Stats(grpc::ServerContext* ctx, const rpc::StatsRequest* req,
                                     rpc::StatsResponse* resp) {
  std::vector<std::pair<bool, ParameterServerService*>> shards;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [j, s] : shards_) shards.emplace_back(PrimaryOf(map_, j) == me_, s.get());
  }
  absl::flat_hash_map<uint32_t, size_t> table_index;
  for (auto& [primary, s] : shards) {
    rpc::StatsResponse one;
    s->Stats(ctx, req, &one);
    resp->set_pulls(resp->pulls() + one.pulls());
    resp->set_pushes(resp->pushes() + one.pushes());
    resp->set_rejected(resp->rejected() + one.rejected());
    resp->set_nonfinite_rejected(resp->nonfinite_rejected() + one.nonfinite_rejected());
    resp->set_rss_bytes(one.rss_bytes());
    if (!primary) continue;  // a backup's rows are copies, not this server's share
    for (const rpc::TableStats& t : one.tables()) {
      auto [it, fresh] = table_index.try_emplace(t.table(), resp->tables_size());
      if (fresh) {
        *resp->add_tables() = t;
        continue;
      }
      rpc::TableStats* sum = resp->mutable_tables(static_cast<int>(it->second));
      sum->set_rows(sum->rows() + t.rows());
      sum->set_bytes(sum->bytes() + t.bytes());
    }
  }
  return grpc::Status::OK;
}

grpc::Status ReplicatedShards::Save(grpc::ServerContext* ctx, const rpc::SaveRequest* req,
                                    rpc::SaveResponse* resp) {
  std::vector<ParameterServerService*> primaries;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [j, s] : shards_) {
      if (PrimaryOf(map_, j) == me_) primaries.push_back(s.get());
    }
  }
  std::vector<std::string> paths;
  for (ParameterServerService* s : primaries) {
    rpc::SaveResponse one;
    grpc::Status st = s->Save(ctx, req, &one);
    if (!st.ok()) return st;
    paths.push_back(one.path());
    resp->set_rows(resp->rows() + one.rows());
  }
  resp->set_path(absl::StrJoin(paths, ","));
  return grpc::Status::OK;
}

}  // namespace psrec
