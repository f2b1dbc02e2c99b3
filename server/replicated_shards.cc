#include "server/replicated_shards.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/rpc_util.h"
#include "common/run_fence.h"

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
int32_t JoiningOf(const rpc::ShardMap& m, uint32_t shard) {
  return shard < static_cast<uint32_t>(m.shard_joining_size()) ? m.shard_joining(shard) : -1;
}
// Rows per copy chunk: about 1 MB at dim 32, below the unary-size cliff of
// large messages only in count, not a limit.
constexpr size_t kCopyRowsPerChunk = 4096;
int64_t PrimaryOf(const rpc::ShardMap& m, uint32_t shard) {
  return shard < static_cast<uint32_t>(m.shard_primaries_size()) ? m.shard_primaries(shard) : -1;
}

}  // namespace

ReplicatedShards::~ReplicatedShards() {
  stop_.Notify();
  if (poller_.joinable()) poller_.join();
  std::vector<std::thread> copiers;
  {
    absl::MutexLock lock(&mu_);
    copiers.swap(copiers_);
  }
  for (std::thread& t : copiers) t.join();
}

absl::Status ReplicatedShards::Configure(const rpc::RunConfig& config, uint32_t server_index,
                                         const std::string& coordinator, const RpcOptions& rpc) {
  config_ = config;
  rpc_ = rpc;
  me_ = server_index;
  coordinator_ = rpc::Coordinator::NewStub(MakeChannel(coordinator, rpc_));
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
  if (map_.version() != 0 && map_.run_id() != 0 && map.run_id() != map_.run_id()) {
    // Whoever answers at the coordinator's address now runs another run.
    spdlog::error("shard map {} is of psrec run {:016x}, this server's run is {:016x}: ignored",
                  map.version(), map.run_id(), map_.run_id());
    return false;
  }
  const bool first = map_.version() == 0;
  const uint32_t shards = static_cast<uint32_t>(map.shard_primaries_size());
  for (uint32_t j = 0; j < shards; ++j) {
    const bool primary = map.shard_primaries(j) == me_;
    const bool backup = BackupOf(map, j) == static_cast<int32_t>(me_);
    const bool was_primary = PrimaryOf(map_, j) == me_;
    const bool joining = JoiningOf(map, j) == static_cast<int32_t>(me_);
    if (!primary && !backup && !joining) continue;
    if (!shards_.contains(j)) {
      // The first map hands out empty replicas: every shard starts empty on
      // primary and backup alike (rows initialize deterministically). Later
      // only a joiner gets one, filled by a copy from the primary.
      if (!first && !joining) {
        spdlog::error("shard map {}: this server is to hold shard {} but has no copy of it",
                      map.version(), j);
        continue;
      }
      auto state = ShardState::Create(config_, j);
      if (!state.ok()) {
        spdlog::error("shard {}: {}", j, std::string(state.status().message()));
        continue;
      }
      auto replica = std::make_unique<Replica>();
      replica->state = state->get();
      replica->service = std::make_unique<ParameterServerService>(nullptr);
      replica->service->SetShard(std::move(*state));
      Replica* r = replica.get();
      shards_[j] = std::move(replica);
      if (joining) {
        {
          absl::MutexLock install(&r->install_mu);
          r->installed = false;
        }
        copiers_.emplace_back(&ReplicatedShards::CopyFromPrimary, this, j, r,
                              map.server_addresses(map.shard_primaries(j)), map.version(),
                              map.run_id());
      }
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
                                              Replica** out) {
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
  Replica* shard = nullptr;
  grpc::Status s =
      ResolvePrimary(req->map_version(), req->has_logical_shard(), req->logical_shard(), &shard);
  if (!s.ok()) return s;
  return shard->service->Pull(ctx, req, resp);
}

grpc::Status ReplicatedShards::Push(grpc::ServerContext* ctx, const rpc::PushRequest* req,
                                    rpc::PushResponse* resp) {
  Replica* shard = nullptr;
  grpc::Status s =
      ResolvePrimary(req->map_version(), req->has_logical_shard(), req->logical_shard(), &shard);
  if (!s.ok()) return s;
  int32_t joiner = -1;
  {
    absl::ReaderMutexLock applying(&shard->copy_mu);
    s = shard->service->Push(ctx, req, resp);
    joiner = shard->joiner;
  }
  if (!s.ok()) return s;
  return ForwardToBackup(*req, req->logical_shard(), joiner);
}

rpc::Replica::Stub* ReplicatedShards::BackupStub(uint32_t server) {
  auto& stub = backup_stubs_[server];
  if (!stub) stub = rpc::Replica::NewStub(MakeChannel(map_.server_addresses(server), rpc_));
  return stub.get();
}

grpc::Status ReplicatedShards::ForwardToBackup(const rpc::PushRequest& req, uint32_t shard,
                                               int32_t joiner) {
  rpc::PushRequest fwd = req;
  for (int attempt = 0; attempt < kForwardAttempts; ++attempt) {
    // The chain after this primary: the backup, and a joiner still copying
    // that saw the push applied after its snapshot.
    std::vector<std::pair<int32_t, rpc::Replica::Stub*>> targets;
    {
      absl::MutexLock lock(&mu_);
      if (PrimaryOf(map_, shard) != me_) {
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            absl::StrFormat("shard map version %d (request) vs %d (server %d): "
                                            "logical shard %d moved to server %d during the push",
                                            req.map_version(), map_.version(), me_, shard,
                                            PrimaryOf(map_, shard)));
      }
      const int32_t backup = BackupOf(map_, shard);
      if (backup >= 0) targets.emplace_back(backup, BackupStub(static_cast<uint32_t>(backup)));
      if (joiner >= 0 && joiner != backup && JoiningOf(map_, shard) == joiner) {
        targets.emplace_back(joiner, BackupStub(static_cast<uint32_t>(joiner)));
      }
      fwd.set_map_version(map_.version());
      fwd.set_run_id(map_.run_id());
    }
    if (targets.empty()) return grpc::Status::OK;  // degraded: nothing to wait for
    bool again = false;
    for (const auto& [target, stub] : targets) {
      grpc::ClientContext ctx;
      SetDeadline(&ctx, kForwardDeadline);
      rpc::PushResponse fwd_resp;
      grpc::Status s = stub->Forward(&ctx, fwd, &fwd_resp);
      if (s.ok()) continue;
      again = true;
      // A server of another run at the backup's address: the backup is gone,
      // as if unreachable (dropped below).
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION && !IsOtherRunRefusal(s)) {
        // The target has another map: fetch the coordinator's and send again
        // (duplicates are dropped), or learn that this server is no longer
        // the primary.
        if (auto r = Refresh(); !r.ok()) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              absl::StrFormat("server %d refused the forward (%s) and %s",
                                              target, s.error_message(), r.message()));
        }
        break;
      }
      if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
          s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        return s;  // the request itself is bad; the primary would have said so
      }
      // Unreachable or too slow: out of the chain, so the push can be acked.
      rpc::ReplicaDropRequest drop;
      drop.set_logical_shard(shard);
      drop.set_backup(static_cast<uint32_t>(target));
      drop.set_primary(me_);
      drop.set_reason(absl::StrFormat("forward failed: %s", s.error_message()));
      grpc::ClientContext dctx;
      SetDeadline(&dctx, kCoordinatorDeadline);
      rpc::ReplicaDropResponse dresp;
      grpc::Status d = coordinator_->ReplicaDropBackup(&dctx, drop, &dresp);
      if (!d.ok()) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            absl::StrFormat("server %d failed a forward (%s) and the coordinator "
                                            "is unreachable (%s): push not acknowledged",
                                            target, s.error_message(), d.error_message()));
      }
      // Concurrent pushes meet the same failure; the first to install the
      // new map says so.
      if (ApplyMap(dresp.map())) {
        spdlog::warn("shard {}: server {} failed a forward ({}); dropped from the chain", shard,
                     target, s.error_message());
      }
      break;
    }
    if (!again) return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrFormat("shard %d: the shard map kept changing while forwarding a "
                                      "push; not acknowledged",
                                      shard));
}

grpc::Status ReplicatedShards::Forward(grpc::ServerContext* ctx, const rpc::PushRequest* req,
                                       rpc::PushResponse* resp) {
  if (req->map_version() > map_version()) (void)Refresh();
  Replica* shard = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (grpc::Status run = CheckRunId(req->run_id(), map_.run_id()); !run.ok()) return run;
    if (req->map_version() != map_.version()) {
      return grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrFormat("forward with shard map version %d, backup server %d has version %d%s",
                          req->map_version(), me_, map_.version(),
                          req->map_version() < map_.version() ? ": the sender is fenced off" : ""));
    }
    auto it = shards_.find(req->logical_shard());
    const bool chained = BackupOf(map_, req->logical_shard()) == static_cast<int32_t>(me_) ||
                         JoiningOf(map_, req->logical_shard()) == static_cast<int32_t>(me_);
    if (!chained || it == shards_.end()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrFormat("shard map version %d: server %d is not the backup of "
                                          "logical shard %d",
                                          map_.version(), me_, req->logical_shard()));
    }
    shard = it->second.get();
  }
  {
    // A joiner applies forwards only on top of the installed copy.
    absl::MutexLock install(&shard->install_mu);
    if (!shard->installed) {
      shard->buffered.push_back(*req);
      return grpc::Status::OK;
    }
  }
  return shard->service->Push(ctx, req, resp);
}

grpc::Status ReplicatedShards::Copy(grpc::ServerContext* ctx, const rpc::ReplicaCopyRequest* req,
                                    grpc::ServerWriter<rpc::ReplicaCopyChunk>* writer) {
  if (req->map_version() > map_version()) (void)Refresh();
  Replica* shard = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (grpc::Status run = CheckRunId(req->run_id(), map_.run_id()); !run.ok()) return run;
    auto it = shards_.find(req->logical_shard());
    if (PrimaryOf(map_, req->logical_shard()) != me_ || it == shards_.end() ||
        JoiningOf(map_, req->logical_shard()) != static_cast<int32_t>(req->joiner())) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrFormat("shard map version %d (request) vs %d (server %d): "
                                          "server %d is not joining logical shard %d here",
                                          req->map_version(), map_.version(), me_,
                                          req->joiner(), req->logical_shard()));
    }
    shard = it->second.get();
  }
  // The snapshot: pushes wait meanwhile, so each is in it or is forwarded.
  std::vector<rpc::ReplicaCopyChunk> chunks(1);
  {
    absl::WriterMutexLock snapshot(&shard->copy_mu);
    for (const PushDedupWindow::Entry& e : shard->service->dedup().Export()) {
      rpc::ReplicaDedupWindow* w = chunks[0].add_dedup();
      w->set_worker_id(e.worker);
      w->set_newest(e.newest);
      std::string* bits = w->mutable_seen();
      bits->assign(PushDedupWindow::kWindow / 8, '\0');
      for (size_t i = 0; i < PushDedupWindow::kWindow; ++i) {
        if (e.seen.test(i)) (*bits)[i / 8] |= static_cast<char>(1 << (i % 8));
      }
    }
    for (size_t t = 0; t < shard->state->num_tables(); ++t) {
      const EmbeddingTable* table = shard->state->table(static_cast<uint32_t>(t));
      if (table == nullptr) continue;
      const uint32_t dim = table->dim();
      table->ForEach([&](uint64_t id, const float* params) {
        rpc::ReplicaCopyChunk* c = &chunks.back();
        if (c->table() != t || c->keys().size() / sizeof(uint64_t) >= kCopyRowsPerChunk) {
          chunks.emplace_back();
          c = &chunks.back();
          c->set_table(static_cast<uint32_t>(t));
        }
        c->mutable_keys()->append(reinterpret_cast<const char*>(&id), sizeof(id));
        c->mutable_values()->append(reinterpret_cast<const char*>(params), dim * sizeof(float));
      });
    }
    shard->joiner = static_cast<int32_t>(req->joiner());
  }
  for (const rpc::ReplicaCopyChunk& c : chunks) {
    if (ctx->IsCancelled() || !writer->Write(c)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "copy: the joiner went away");
    }
  }
  spdlog::info("shard {}: copied {} chunks to joining server {}", req->logical_shard(),
               chunks.size(), req->joiner());
  return grpc::Status::OK;
}

void ReplicatedShards::CopyFromPrimary(uint32_t shard, Replica* replica,
                                       std::string primary_address, uint64_t version,
                                       uint64_t run_id) {
  const absl::Time start = absl::Now();
  auto stub = rpc::Replica::NewStub(MakeChannel(primary_address, rpc_));
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Minutes(10));
  rpc::ReplicaCopyRequest req;
  req.set_logical_shard(shard);
  req.set_joiner(me_);
  req.set_map_version(version);
  req.set_run_id(run_id);
  auto reader = stub->Copy(&ctx, req);
  rpc::ReplicaCopyChunk chunk;
  uint64_t rows = 0;
  std::vector<PushDedupWindow::Entry> windows;
  while (reader->Read(&chunk)) {
    for (const rpc::ReplicaDedupWindow& w : chunk.dedup()) {
      PushDedupWindow::Entry e;
      e.worker = w.worker_id();
      e.newest = w.newest();
      for (size_t i = 0; i < PushDedupWindow::kWindow && i / 8 < w.seen().size(); ++i) {
        if (w.seen()[i / 8] & (1 << (i % 8))) e.seen.set(i);
      }
      windows.push_back(e);
    }
    EmbeddingTable* table = replica->state->table(chunk.table());
    if (table == nullptr || chunk.keys().empty()) continue;
    const size_t n = chunk.keys().size() / sizeof(uint64_t);
    if (chunk.values().size() != n * table->dim() * sizeof(float)) continue;
    std::vector<uint64_t> keys(n);
    std::memcpy(keys.data(), chunk.keys().data(), chunk.keys().size());
    std::vector<float> values(n * table->dim());
    std::memcpy(values.data(), chunk.values().data(), chunk.values().size());
    for (size_t i = 0; i < n; ++i) table->Insert(keys[i], values.data() + i * table->dim());
    rows += n;
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) {
    // The copy is abandoned; the primary drops this server when a forward
    // to it fails, and the shard stays degraded.
    spdlog::error("shard {}: copy from primary at {} failed: {}", shard, primary_address,
                  s.error_message());
    return;
  }
  replica->service->dedup().Import(windows);
  {
    // Pushes applied after the snapshot, in the order they arrived.
    absl::MutexLock install(&replica->install_mu);
    for (const rpc::PushRequest& p : replica->buffered) {
      rpc::PushResponse ignored;
      replica->service->Push(nullptr, &p, &ignored);
    }
    replica->buffered.clear();
    replica->installed = true;
  }
  rpc::ReplicaJoinedRequest joined;
  joined.set_logical_shard(shard);
  joined.set_server(me_);
  grpc::ClientContext jctx;
  SetDeadline(&jctx, kCoordinatorDeadline);
  rpc::ReplicaDropResponse jresp;
  grpc::Status j = coordinator_->ReplicaJoined(&jctx, joined, &jresp);
  if (!j.ok()) {
    spdlog::error("shard {}: copied {} rows but the coordinator refused the join: {}", shard, rows,
                  j.error_message());
    return;
  }
  ApplyMap(jresp.map());
  spdlog::info("shard {}: copied {} rows from its primary in {:.2f}s; this server is its backup",
               shard, rows, absl::ToDoubleSeconds(absl::Now() - start));
}

grpc::Status ReplicatedShards::Stats(grpc::ServerContext* ctx, const rpc::StatsRequest* req,
                                     rpc::StatsResponse* resp) {
  std::vector<std::pair<bool, ParameterServerService*>> shards;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [j, s] : shards_) shards.emplace_back(PrimaryOf(map_, j) == me_, s->service.get());
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
  // A model file comes from the primaries; averaging changes every copy, so
  // a backup promoted later holds the same averaged parameters.
  const bool averaging = req->average() != rpc::SAVE_AVERAGE_NONE;
  std::vector<ParameterServerService*> targets;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [j, s] : shards_) {
      if (averaging || PrimaryOf(map_, j) == me_) targets.push_back(s->service.get());
    }
  }
  std::vector<std::string> paths;
  for (size_t i = 0; i < targets.size(); ++i) {
    rpc::SaveResponse one;
    grpc::Status st = targets[i]->Save(ctx, req, &one);
    if (!st.ok()) return st;
    if (!averaging) paths.push_back(one.path());
    resp->set_rows(resp->rows() + one.rows());
    if (i == 0 || one.average_snapshots() < resp->average_snapshots()) {
      resp->set_average_snapshots(one.average_snapshots());
    }
  }
  resp->set_path(absl::StrJoin(paths, ","));
  return grpc::Status::OK;
}

}  // namespace psrec
