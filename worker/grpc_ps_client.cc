#include "worker/grpc_ps_client.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/rpc_util.h"

namespace psrec {
namespace {

constexpr absl::Duration kRequestTimeout = absl::Seconds(60);

// One in-flight request of any kind.
template <typename Req, typename Resp>
struct Call {
  uint32_t server = 0;
  Req req;
  Resp resp;
  std::unique_ptr<grpc::ClientContext> ctx;
  grpc::Status status;
};

// Sends every call in parallel and waits; calls that fail with UNAVAILABLE
// are sent again with backoff until `budget` is spent. `issue` starts one
// call: issue(stub, ctx, req, resp, on_done).
template <typename Req, typename Resp, typename Issue>
absl::Status RunAll(std::vector<Call<Req, Resp>>& calls,
                    const std::vector<std::unique_ptr<rpc::ParameterServer::Stub>>& stubs,
                    const std::vector<std::string>& addresses, absl::Duration budget,
                    const std::function<bool()>& cancelled, const char* what, Issue issue) {
  std::vector<size_t> pending(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) pending[i] = i;
  const absl::Time give_up = absl::Now() + budget;
  absl::Duration backoff = absl::Milliseconds(10);
  while (!pending.empty()) {
    absl::BlockingCounter counter(static_cast<int>(pending.size()));
    for (size_t i : pending) {
      auto& c = calls[i];
      c.ctx = std::make_unique<grpc::ClientContext>();
      SetDeadline(c.ctx.get(), kRequestTimeout);
      issue(stubs[c.server].get(), c.ctx.get(), &c.req, &c.resp, [&c, &counter](grpc::Status s) {
        c.status = std::move(s);
        counter.DecrementCount();
      });
    }
    counter.Wait();
    std::vector<size_t> retry;
    for (size_t i : pending) {
      const auto& c = calls[i];
      if (c.status.ok()) continue;
      if (c.status.error_code() != grpc::StatusCode::UNAVAILABLE || absl::Now() > give_up) {
        return FromGrpc(c.status, absl::StrFormat("%s to server %d at %s", what, c.server,
                                                  addresses[c.server]));
      }
      retry.push_back(i);
    }
    pending.swap(retry);
    if (!pending.empty() && cancelled()) {
      return absl::CancelledError(absl::StrCat(what, ": shutting down"));
    }
    if (!pending.empty()) {
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(1));
    }
  }
  return absl::OkStatus();
}

}  // namespace

struct GrpcPsClient::Slice {
  uint32_t server = 0;
  std::vector<uint32_t> positions;  // indices into the op's keys
};

absl::StatusOr<std::unique_ptr<GrpcPsClient>> GrpcPsClient::Create(
    const rpc::ShardMap& map, const std::vector<TableConfig>& tables, const RpcOptions& rpc,
    absl::Duration retry_budget) {
  const uint32_t n = map.server_addresses_size();
  if (n == 0) return absl::InvalidArgumentError("shard map has no servers");
  auto ring = Ring::FromParts({map.ring_positions().begin(), map.ring_positions().end()},
                              {map.ring_owners().begin(), map.ring_owners().end()}, n);
  if (!ring.ok()) return ring.status();
  auto client = std::unique_ptr<GrpcPsClient>(new GrpcPsClient());
  client->ring_ = std::move(*ring);
  client->retry_budget_ = retry_budget;
  client->max_keys_per_chunk_ =
      std::min<size_t>(kMaxKeysPerChunk, std::max<uint32_t>(1, rpc.limits.max_keys_per_request));
  for (const auto& a : map.server_addresses()) {
    client->addresses_.push_back(a);
    client->stubs_.push_back(rpc::ParameterServer::NewStub(MakeChannel(a, rpc)));
  }
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

std::vector<GrpcPsClient::Slice> GrpcPsClient::SliceByServer(
    uint32_t table, absl::Span<const uint64_t> keys) const {
  std::vector<std::vector<uint32_t>> by_server(stubs_.size());
  for (uint32_t i = 0; i < keys.size(); ++i) {
    by_server[ring_.Owner(table, keys[i])].push_back(i);
  }
  std::vector<Slice> slices;
  for (uint32_t s = 0; s < by_server.size(); ++s) {
    const auto& pos = by_server[s];
    for (size_t begin = 0; begin < pos.size(); begin += max_keys_per_chunk_) {
      size_t end = std::min(pos.size(), begin + max_keys_per_chunk_);
      slices.push_back({s, std::vector<uint32_t>(pos.begin() + begin, pos.begin() + end)});
    }
  }
  return slices;
}

absl::Status GrpcPsClient::Pull(absl::Span<const PullOp> ops, bool read_only) {
  using PullCall = Call<rpc::PullRequest, rpc::PullResponse>;
  std::vector<PullCall> calls;
  std::vector<std::pair<size_t, std::vector<uint32_t>>> where;  // op, positions
  for (size_t o = 0; o < ops.size(); ++o) {
    const PullOp& op = ops[o];
    if (op.table >= dims_.size() || dims_[op.table] == 0) {
      return absl::InvalidArgumentError(absl::StrFormat("pull: unknown table %d", op.table));
    }
    for (Slice& slice : SliceByServer(op.table, op.keys)) {
      PullCall c;
      c.server = slice.server;
      c.req.set_protocol_version(kProtocolVersion);
      c.req.set_table(op.table);
      c.req.set_read_only(read_only);
      if (!read_only) c.req.set_clock(clock_tag_);
      std::string* keys = c.req.mutable_keys();
      keys->resize(slice.positions.size() * sizeof(uint64_t));
      uint64_t* k = reinterpret_cast<uint64_t*>(keys->data());
      for (size_t i = 0; i < slice.positions.size(); ++i) k[i] = op.keys[slice.positions[i]];
      calls.push_back(std::move(c));
      where.emplace_back(o, std::move(slice.positions));
    }
  }
  auto status = RunAll(calls, stubs_, addresses_, retry_budget_, cancelled_, "pull",
                       [](rpc::ParameterServer::Stub* stub, grpc::ClientContext* ctx,
                          const rpc::PullRequest* req, rpc::PullResponse* resp, auto done) {
                         stub->async()->Pull(ctx, req, resp, std::move(done));
                       });
  if (!status.ok()) return status;
  for (size_t c = 0; c < calls.size(); ++c) {
    const PullOp& op = ops[where[c].first];
    const auto& positions = where[c].second;
    const uint32_t dim = dims_[op.table];
    const rpc::PullResponse& resp = calls[c].resp;
    if (resp.dim() != dim || resp.values().size() != positions.size() * dim * sizeof(float) ||
        (read_only && resp.found().size() != positions.size())) {
      return absl::InternalError(absl::StrFormat(
          "pull from server %d at %s: malformed response for table %d", calls[c].server,
          addresses_[calls[c].server], op.table));
    }
    const float* v = reinterpret_cast<const float*>(resp.values().data());
    for (size_t i = 0; i < positions.size(); ++i) {
      std::memcpy(op.values + static_cast<size_t>(positions[i]) * dim, v + i * dim,
                  dim * sizeof(float));
      if (read_only && op.found) op.found[positions[i]] = resp.found()[i];
    }
  }
  return absl::OkStatus();
}

absl::Status GrpcPsClient::Push(absl::Span<const PushOp> ops) {
  using PushCall = Call<rpc::PushRequest, rpc::PushResponse>;
  std::vector<PushCall> calls;
  for (const PushOp& op : ops) {
    if (op.table >= dims_.size() || dims_[op.table] == 0) {
      return absl::InvalidArgumentError(absl::StrFormat("push: unknown table %d", op.table));
    }
    // 0 on the wire means "unset" (1.0), so a zero scale cannot be sent.
    if (!(op.lr_scale > 0) || !std::isfinite(op.lr_scale)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "push: lr_scale %g for table %d is not a positive number", op.lr_scale, op.table));
    }
    const uint32_t dim = dims_[op.table];
    for (const Slice& slice : SliceByServer(op.table, op.keys)) {
      PushCall c;
      c.server = slice.server;
      c.req.set_protocol_version(kProtocolVersion);
      c.req.set_table(op.table);
      if (op.lr_scale != 1.0f) c.req.set_lr_scale(op.lr_scale);
      if (clock_tag_ != 0) {
        c.req.set_clock(clock_tag_);
        c.req.set_worker_id(worker_id_);
      }
      std::string* keys = c.req.mutable_keys();
      std::string* grads = c.req.mutable_grads();
      keys->resize(slice.positions.size() * sizeof(uint64_t));
      grads->resize(slice.positions.size() * dim * sizeof(float));
      uint64_t* k = reinterpret_cast<uint64_t*>(keys->data());
      float* g = reinterpret_cast<float*>(grads->data());
      for (size_t i = 0; i < slice.positions.size(); ++i) {
        k[i] = op.keys[slice.positions[i]];
        std::memcpy(g + i * dim, op.grads + static_cast<size_t>(slice.positions[i]) * dim,
                    dim * sizeof(float));
      }
      calls.push_back(std::move(c));
    }
  }
  return RunAll(calls, stubs_, addresses_, retry_budget_, cancelled_, "push",
                [](rpc::ParameterServer::Stub* stub, grpc::ClientContext* ctx,
                   const rpc::PushRequest* req, rpc::PushResponse* resp, auto done) {
                  stub->async()->Push(ctx, req, resp, std::move(done));
                });
}

absl::Status GrpcPsClient::SaveAll(const std::string& dir) {
  using SaveCall = Call<rpc::SaveRequest, rpc::SaveResponse>;
  std::vector<SaveCall> calls(stubs_.size());
  for (uint32_t s = 0; s < calls.size(); ++s) {
    calls[s].server = s;
    calls[s].req.set_dir(dir);
  }
  return RunAll(calls, stubs_, addresses_, retry_budget_, cancelled_, "save",
                [](rpc::ParameterServer::Stub* stub, grpc::ClientContext* ctx,
                   const rpc::SaveRequest* req, rpc::SaveResponse* resp, auto done) {
                  stub->async()->Save(ctx, req, resp, std::move(done));
                });
}

absl::StatusOr<std::vector<rpc::StatsResponse>> GrpcPsClient::StatsAll() {
  using StatsCall = Call<rpc::StatsRequest, rpc::StatsResponse>;
  std::vector<StatsCall> calls(stubs_.size());
  for (uint32_t s = 0; s < calls.size(); ++s) calls[s].server = s;
  auto status = RunAll(calls, stubs_, addresses_, retry_budget_, cancelled_, "stats",
                       [](rpc::ParameterServer::Stub* stub, grpc::ClientContext* ctx,
                          const rpc::StatsRequest* req, rpc::StatsResponse* resp, auto done) {
                         stub->async()->Stats(ctx, req, resp, std::move(done));
                       });
  if (!status.ok()) return status;
  std::vector<rpc::StatsResponse> out;
  for (auto& c : calls) out.push_back(std::move(c.resp));
  return out;
}

}  // namespace psrec
