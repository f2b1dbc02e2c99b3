#include "worker/grpc_ps_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/rpc_util.h"
#include "common/run_fence.h"

namespace psrec {
namespace {

constexpr absl::Duration kRequestTimeout = absl::Seconds(60);
// Calls addressed to a server rather than a logical shard (save, stats).
constexpr uint32_t kNoShard = ~0u;

// One in-flight request of any kind.
template <typename Req, typename Resp>
struct Call {
  uint32_t shard = kNoShard;  // logical shard, or kNoShard
  uint32_t server = 0;
  Req req;
  Resp resp;
  std::shared_ptr<rpc::ParameterServer::Stub> stub;
  std::unique_ptr<grpc::ClientContext> ctx;
  grpc::Status status;
};

// Fencing fields: the run on pulls, pushes and saves; the map version and
// logical shard on pulls and pushes.
void SetRoute(rpc::PullRequest* r, uint64_t run, uint64_t version, uint32_t shard) {
  r->set_run_id(run);
  r->set_map_version(version);
  r->set_logical_shard(shard);
}
void SetRoute(rpc::PushRequest* r, uint64_t run, uint64_t version, uint32_t shard) {
  r->set_run_id(run);
  r->set_map_version(version);
  r->set_logical_shard(shard);
}
void SetRoute(rpc::PullBatchRequest* r, uint64_t run, uint64_t version, uint32_t shard) {
  for (auto& sub : *r->mutable_requests()) SetRoute(&sub, run, version, shard);
}
void SetRoute(rpc::PushBatchRequest* r, uint64_t run, uint64_t version, uint32_t shard) {
  for (auto& sub : *r->mutable_requests()) SetRoute(&sub, run, version, shard);
}
void SetRoute(rpc::SaveRequest* r, uint64_t run, uint64_t, uint32_t) { r->set_run_id(run); }
template <typename Req>
void SetRoute(Req*, uint64_t, uint64_t, uint32_t) {}

// A server's refusal of a shard it does not hold in its map, or of a run it
// does not belong to (fencing): a newer map may route elsewhere.
bool IsFencingRefusal(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
         (absl::StrContains(s.error_message(), "shard map version") || IsOtherRunRefusal(s));
}

}  // namespace

struct GrpcPsClient::Slice {
  uint32_t shard = 0;
  std::vector<uint32_t> positions;  // indices into the op's keys
};

struct GrpcPsClient::Group {
  uint32_t shard = 0;
  size_t keys = 0;
  std::vector<std::pair<size_t, std::vector<uint32_t>>> parts;  // op, positions in its keys
};

struct GrpcPsClient::Route {
  uint32_t server = 0;
  uint64_t version = 0;
  uint64_t run = 0;
  std::shared_ptr<rpc::ParameterServer::Stub> stub;
  std::string address;
};

absl::StatusOr<std::unique_ptr<GrpcPsClient>> GrpcPsClient::Create(
    const rpc::ShardMap& map, const std::vector<TableConfig>& tables, const RpcOptions& rpc,
    absl::Duration retry_budget) {
  auto client = std::unique_ptr<GrpcPsClient>(new GrpcPsClient());
  client->rpc_ = rpc;
  if (auto s = client->InstallMap(map); !s.ok()) return s;
  client->retry_budget_ = retry_budget;
  client->max_keys_per_chunk_ =
      std::min<size_t>(kMaxKeysPerChunk, std::max<uint32_t>(1, rpc.limits.max_keys_per_request));
  // Sequence numbers start at the wall clock in microseconds, so a worker
  // that replaces a dead one under the same id numbers above it.
  client->next_seq_.store(static_cast<uint64_t>(absl::ToUnixMicros(absl::Now())));
  for (const TableConfig& t : tables) {
    if (client->dims_.size() <= t.id) {
      client->dims_.resize(t.id + 1, 0);
      client->dense_.resize(t.id + 1, false);
    }
    client->dims_[t.id] = t.dim;
    client->dense_[t.id] = t.dense;
  }
  return client;
}

absl::Status GrpcPsClient::InstallMap(const rpc::ShardMap& map) {
  const uint32_t n = map.server_addresses_size();
  if (n == 0) return absl::InvalidArgumentError("shard map has no servers");
  auto ring = Ring::FromParts({map.ring_positions().begin(), map.ring_positions().end()},
                              {map.ring_owners().begin(), map.ring_owners().end()}, n);
  if (!ring.ok()) return ring.status();
  std::vector<uint32_t> primaries(map.shard_primaries().begin(), map.shard_primaries().end());
  for (uint32_t p : primaries) {
    if (p >= n) {
      return absl::InvalidArgumentError(
          absl::StrFormat("shard map: primary server %d but only %d servers", p, n));
    }
  }
  absl::MutexLock lock(&mu_);
  if (version_ != 0 && map.version() <= version_) return absl::OkStatus();
  if (version_ != 0 && run_id_ != 0 && map.run_id() != run_id_) {
    // Whoever answers at the coordinator's address now runs another run.
    return absl::FailedPreconditionError(absl::StrFormat(
        "shard map %d is of psrec run %016x, this client's run is %016x: ignored", map.version(),
        map.run_id(), run_id_));
  }
  ring_ = std::move(*ring);
  version_ = map.version();
  run_id_ = map.run_id();
  primaries_ = std::move(primaries);
  alive_.assign(n, true);
  for (int i = 0; i < map.server_alive_size() && i < static_cast<int>(n); ++i) {
    alive_[i] = map.server_alive(i);
  }
  stubs_.resize(n);
  addresses_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (stubs_[i] && addresses_[i] == map.server_addresses(i)) continue;
    addresses_[i] = map.server_addresses(i);
    stubs_[i] = rpc::ParameterServer::NewStub(MakeChannel(addresses_[i], rpc_));
  }
  return absl::OkStatus();
}

bool GrpcPsClient::RefreshMap() {
  if (!map_source_) return false;
  auto map = map_source_();
  if (!map.ok()) return false;
  if (auto s = InstallMap(*map); !s.ok()) {
    spdlog::warn("{}", std::string(s.message()));
    return false;
  }
  return true;
}

uint64_t GrpcPsClient::map_version() const {
  absl::MutexLock lock(&mu_);
  return version_;
}

uint32_t GrpcPsClient::num_servers() const {
  absl::MutexLock lock(&mu_);
  return static_cast<uint32_t>(stubs_.size());
}

GrpcPsClient::Route GrpcPsClient::RouteOf(uint32_t shard, uint32_t server) const {
  absl::MutexLock lock(&mu_);
  Route r;
  r.version = version_;
  r.run = run_id_;
  r.server = server;
  if (shard != kNoShard) {
    r.server = shard < primaries_.size() ? primaries_[shard] : shard;
  }
  r.stub = stubs_[r.server];
  r.address = addresses_[r.server];
  return r;
}

std::vector<uint32_t> GrpcPsClient::ServingServers() const {
  absl::MutexLock lock(&mu_);
  std::vector<uint32_t> out;
  if (primaries_.empty()) {
    for (uint32_t s = 0; s < stubs_.size(); ++s) out.push_back(s);
    return out;
  }
  out = primaries_;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

template <typename CallT, typename Issue>
absl::Status GrpcPsClient::RunAll(std::vector<CallT>& calls, const char* what, Issue issue) {
  std::vector<size_t> pending(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) pending[i] = i;
  const absl::Time give_up = absl::Now() + retry_budget_;
  absl::Duration backoff = absl::Milliseconds(10);
  while (!pending.empty()) {
    absl::BlockingCounter counter(static_cast<int>(pending.size()));
    for (size_t i : pending) {
      auto& c = calls[i];
      Route route = RouteOf(c.shard, c.server);
      c.server = route.server;
      c.stub = std::move(route.stub);
      SetRoute(&c.req, route.run, route.version, c.shard);
      c.ctx = std::make_unique<grpc::ClientContext>();
      SetDeadline(c.ctx.get(), kRequestTimeout);
      issue(c.stub.get(), c.ctx.get(), &c.req, &c.resp, [&c, &counter](grpc::Status s) {
        c.status = std::move(s);
        counter.DecrementCount();
      });
    }
    counter.Wait();
    std::vector<size_t> retry;
    for (size_t i : pending) {
      const auto& c = calls[i];
      if (c.status.ok()) continue;
      // CANCELLED: a server stopping on SIGTERM cancels the calls it serves;
      // it comes back (restarted), and a retried push keeps its seq.
      const bool retryable = c.status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                             (c.status.error_code() == grpc::StatusCode::CANCELLED &&
                              !cancelled_()) ||
                             (map_source_ && IsFencingRefusal(c.status));
      if (!retryable || absl::Now() > give_up) {
        std::string address;
        {
          absl::MutexLock lock(&mu_);
          address = addresses_[c.server];
        }
        return FromGrpc(c.status, absl::StrFormat("%s to server %d at %s", what, c.server,
                                                  address));
      }
      retry.push_back(i);
    }
    pending.swap(retry);
    if (!pending.empty() && cancelled_()) {
      return absl::CancelledError(absl::StrCat(what, ": shutting down"));
    }
    if (!pending.empty()) {
      // A dead primary or a refusal: a promotion may have moved the shard.
      RefreshMap();
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(1));
    }
  }
  return absl::OkStatus();
}

std::vector<GrpcPsClient::Slice> GrpcPsClient::SliceByShard(
    uint32_t table, absl::Span<const uint64_t> keys) const {
  std::vector<std::vector<uint32_t>> by_shard;
  {
    absl::MutexLock lock(&mu_);
    by_shard.resize(ring_.num_servers());
    for (uint32_t i = 0; i < keys.size(); ++i) {
      by_shard[ring_.Owner(table, keys[i])].push_back(i);
    }
  }
  std::vector<Slice> slices;
  for (uint32_t s = 0; s < by_shard.size(); ++s) {
    const auto& pos = by_shard[s];
    for (size_t begin = 0; begin < pos.size(); begin += max_keys_per_chunk_) {
      size_t end = std::min(pos.size(), begin + max_keys_per_chunk_);
      slices.push_back({s, std::vector<uint32_t>(pos.begin() + begin, pos.begin() + end)});
    }
  }
  return slices;
}

template <typename Op>
std::vector<GrpcPsClient::Group> GrpcPsClient::GroupByShard(absl::Span<const Op> ops) const {
  std::vector<Group> groups;
  std::vector<size_t> open;  // by shard: index of its group still taking slices
  for (size_t o = 0; o < ops.size(); ++o) {
    for (Slice& slice : SliceByShard(ops[o].table, ops[o].keys)) {
      if (open.size() <= slice.shard) open.resize(slice.shard + 1, SIZE_MAX);
      size_t& g = open[slice.shard];
      if (g == SIZE_MAX || groups[g].keys + slice.positions.size() > max_keys_per_chunk_) {
        g = groups.size();
        groups.emplace_back();
        groups.back().shard = slice.shard;
      }
      groups[g].keys += slice.positions.size();
      groups[g].parts.emplace_back(o, std::move(slice.positions));
    }
  }
  return groups;
}

absl::Status GrpcPsClient::Pull(absl::Span<const PullOp> ops, bool read_only) {
  for (const PullOp& op : ops) {
    if (op.table >= dims_.size() || dims_[op.table] == 0) {
      return absl::InvalidArgumentError(absl::StrFormat("pull: unknown table %d", op.table));
    }
  }
  using PullCall = Call<rpc::PullBatchRequest, rpc::PullBatchResponse>;
  std::vector<Group> groups = GroupByShard(ops);
  std::vector<PullCall> calls(groups.size());
  for (size_t c = 0; c < groups.size(); ++c) {
    calls[c].shard = groups[c].shard;
    for (const auto& [o, positions] : groups[c].parts) {
      const PullOp& op = ops[o];
      rpc::PullRequest* req = calls[c].req.add_requests();
      req->set_protocol_version(kProtocolVersion);
      req->set_table(op.table);
      req->set_read_only(read_only);
      if (!read_only) req->set_clock(clock_tag_);
      std::string* keys = req->mutable_keys();
      keys->resize(positions.size() * sizeof(uint64_t));
      uint64_t* k = reinterpret_cast<uint64_t*>(keys->data());
      for (size_t i = 0; i < positions.size(); ++i) k[i] = op.keys[positions[i]];
    }
  }
  auto status = RunAll(calls, "pull",
                       [](rpc::ParameterServer::Stub* stub, grpc::ClientContext* ctx,
                          const rpc::PullBatchRequest* req, rpc::PullBatchResponse* resp,
                          auto done) {
                         // One request travels as a plain Pull (no batch framing).
                         if (req->requests_size() == 1) {
                           resp->clear_responses();
                           stub->async()->Pull(ctx, &req->requests(0), resp->add_responses(),
                                               std::move(done));
                         } else {
                           stub->async()->PullBatch(ctx, req, resp, std::move(done));
                         }
                       });
  if (!status.ok()) return status;
  for (size_t c = 0; c < calls.size(); ++c) {
    const auto& parts = groups[c].parts;
    if (calls[c].resp.responses_size() != static_cast<int>(parts.size())) {
      return absl::InternalError(absl::StrFormat(
          "pull from server %d: %d answers to %d requests", calls[c].server,
          calls[c].resp.responses_size(), parts.size()));
    }
    for (size_t r = 0; r < parts.size(); ++r) {
      const PullOp& op = ops[parts[r].first];
      const auto& positions = parts[r].second;
      const uint32_t dim = dims_[op.table];
      const rpc::PullResponse& resp = calls[c].resp.responses(static_cast<int>(r));
      if (resp.dim() != dim || resp.values().size() != positions.size() * dim * sizeof(float) ||
          (read_only && resp.found().size() != positions.size())) {
        return absl::InternalError(absl::StrFormat(
            "pull from server %d: malformed response for table %d", calls[c].server, op.table));
      }
      const float* v = reinterpret_cast<const float*>(resp.values().data());
      for (size_t i = 0; i < positions.size(); ++i) {
        std::memcpy(op.values + static_cast<size_t>(positions[i]) * dim, v + i * dim,
                    dim * sizeof(float));
        if (read_only && op.found) op.found[positions[i]] = resp.found()[i];
      }
    }
  }
  return absl::OkStatus();
}

absl::Status GrpcPsClient::Push(absl::Span<const PushOp> ops) {
  for (const PushOp& op : ops) {
    if (op.table >= dims_.size() || dims_[op.table] == 0) {
      return absl::InvalidArgumentError(absl::StrFormat("push: unknown table %d", op.table));
    }
    // 0 on the wire means "unset" (1.0), so a zero scale cannot be sent.
    if (!(op.lr_scale > 0) || !std::isfinite(op.lr_scale)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "push: lr_scale %g for table %d is not a positive number", op.lr_scale, op.table));
    }
  }
  using PushCall = Call<rpc::PushBatchRequest, rpc::PushBatchResponse>;
  std::vector<Group> groups = GroupByShard(ops);
  std::vector<PushCall> calls(groups.size());
  for (size_t c = 0; c < groups.size(); ++c) {
    calls[c].shard = groups[c].shard;
    for (const auto& [o, positions] : groups[c].parts) {
      const PushOp& op = ops[o];
      const uint32_t dim = dims_[op.table];
      rpc::PushRequest* req = calls[c].req.add_requests();
      req->set_protocol_version(kProtocolVersion);
      req->set_table(op.table);
      // The seq names this request for good: retries and re-routes keep it.
      req->set_worker_id(worker_id_);
      req->set_seq(next_seq_.fetch_add(1, std::memory_order_relaxed));
      if (op.lr_scale != 1.0f) req->set_lr_scale(op.lr_scale);
      if (clock_tag_ != 0) req->set_clock(clock_tag_);
      if (op.add_deltas) req->set_add_deltas(true);
      if (op.assign) req->set_assign(true);
      std::string* keys = req->mutable_keys();
      std::string* grads = req->mutable_grads();
      keys->resize(positions.size() * sizeof(uint64_t));
      grads->resize(positions.size() * dim * sizeof(float));
      uint64_t* k = reinterpret_cast<uint64_t*>(keys->data());
      float* g = reinterpret_cast<float*>(grads->data());
      for (size_t i = 0; i < positions.size(); ++i) {
        k[i] = op.keys[positions[i]];
        std::memcpy(g + i * dim, op.grads + static_cast<size_t>(positions[i]) * dim,
                    dim * sizeof(float));
      }
    }
  }
  return RunAll(calls, "push",
                [](rpc::ParameterServer::Stub* stub, grpc::ClientContext* ctx,
                   const rpc::PushBatchRequest* req, rpc::PushBatchResponse* resp,
                   auto done) {
                  if (req->requests_size() == 1) {
                    resp->clear_responses();
                    stub->async()->Push(ctx, &req->requests(0), resp->add_responses(),
                                        std::move(done));
                  } else {
                    stub->async()->PushBatch(ctx, req, resp, std::move(done));
                  }
                });
}

absl::Status GrpcPsClient::SaveAll(const std::string& dir) {
  using SaveCall = Call<rpc::SaveRequest, rpc::SaveResponse>;
  RefreshMap();
  // With replicas, every server writes the shards it is primary of.
  const std::vector<uint32_t> servers = ServingServers();
  std::vector<SaveCall> calls(servers.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[i].server = servers[i];
    calls[i].req.set_dir(dir);
  }
  return RunAll(calls, "save",
                [](rpc::ParameterServer::Stub* stub, grpc::ClientContext* ctx,
                   const rpc::SaveRequest* req, rpc::SaveResponse* resp, auto done) {
                  stub->async()->Save(ctx, req, resp, std::move(done));
                });
}

absl::StatusOr<uint32_t> GrpcPsClient::AverageAll(rpc::SaveAverage action) {
  using SaveCall = Call<rpc::SaveRequest, rpc::SaveResponse>;
  RefreshMap();
  std::vector<bool> alive;
  {
    absl::MutexLock lock(&mu_);
    alive = alive_;
  }
  std::vector<SaveCall> calls;
  for (uint32_t s = 0; s < alive.size(); ++s) {
    if (!alive[s]) continue;
    calls.emplace_back();
    calls.back().server = s;
    calls.back().req.set_average(action);
  }
  auto status = RunAll(calls, "average",
                       [](rpc::ParameterServer::Stub* stub, grpc::ClientContext* ctx,
                          const rpc::SaveRequest* req, rpc::SaveResponse* resp, auto done) {
                         stub->async()->Save(ctx, req, resp, std::move(done));
                       });
  if (!status.ok()) return status;
  uint32_t fewest = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    const uint32_t n = calls[i].resp.average_snapshots();
    if (i == 0 || n < fewest) fewest = n;
  }
  return fewest;
}

absl::StatusOr<std::vector<rpc::StatsResponse>> GrpcPsClient::StatsAll() {
  using StatsCall = Call<rpc::StatsRequest, rpc::StatsResponse>;
  std::vector<bool> alive;
  {
    absl::MutexLock lock(&mu_);
    alive = alive_;
  }
  // Dead servers (replication) answer nothing: their entry stays empty.
  std::vector<StatsCall> calls;
  for (uint32_t s = 0; s < alive.size(); ++s) {
    if (!alive[s]) continue;
    calls.emplace_back();
    calls.back().server = s;
  }
  auto status = RunAll(calls, "stats",
                       [](rpc::ParameterServer::Stub* stub, grpc::ClientContext* ctx,
                          const rpc::StatsRequest* req, rpc::StatsResponse* resp, auto done) {
                         stub->async()->Stats(ctx, req, resp, std::move(done));
                       });
  if (!status.ok()) return status;
  std::vector<rpc::StatsResponse> out(alive.size());
  for (auto& c : calls) out[c.server] = std::move(c.resp);
  return out;
}

}  // namespace psrec
