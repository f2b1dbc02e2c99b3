#include "server/ps_service.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/rpc_util.h"
#include "common/run_fence.h"

namespace psrec {
namespace {

// Whether no value is NaN or infinite (|v| <= max is false for both). A
// branch-free OR vectorizes; the early-exit std::isfinite loop did not and
// was 6% of a 100k-key push's server time.
bool AllFinite(absl::Span<const float> values) {
  constexpr float kMax = std::numeric_limits<float>::max();
  uint32_t nonfinite = 0;
  for (float v : values) nonfinite |= static_cast<uint32_t>(!(std::fabs(v) <= kMax));
  return nonfinite == 0;
}

}  // namespace

void ParameterServerService::SetShard(std::unique_ptr<ShardState> shard) {
  absl::MutexLock lock(&mu_);
  shard_ = std::move(shard);
  shard_ptr_.store(shard_.get(), std::memory_order_release);
}

ShardState* ParameterServerService::shard() const {
  return shard_ptr_.load(std::memory_order_acquire);
}

grpc::Status ParameterServerService::CheckRun(uint64_t request_run) {
  grpc::Status s = CheckRunId(request_run, run_id_.load(std::memory_order_acquire));
  if (!s.ok()) rejected_.fetch_add(1, std::memory_order_relaxed);
  return s;
}

grpc::Status ParameterServerService::Validate(uint32_t version, uint32_t table,
                                              const std::string& keys, EmbeddingTable** out) {
  ShardState* s = shard();
  if (s == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is not configured yet");
  }
  grpc::Status bad;
  if (version != kProtocolVersion) {
    bad = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       absl::StrFormat("protocol version %d, server speaks %d", version,
                                       kProtocolVersion));
  } else if ((*out = s->table(table)) == nullptr) {
    bad = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       absl::StrFormat("unknown table %d", table));
  } else if (keys.size() % sizeof(uint64_t) != 0) {
    bad = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       absl::StrFormat("keys: %d bytes is not a whole number of uint64",
                                       keys.size()));
  } else if (keys.size() / sizeof(uint64_t) > max_keys_per_request_) {
    over_limit_.fetch_add(1, std::memory_order_relaxed);
    bad = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       absl::StrFormat("%d keys in one request; the limit is %d "
                                       "(--max_keys_per_request)",
                                       keys.size() / sizeof(uint64_t), max_keys_per_request_));
  } else if ((*out)->config().dense && (keys.size() != sizeof(uint64_t) ||
                                         keys.find_first_not_of('\0') != std::string::npos)) {
    bad = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "a dense tensor is addressed with exactly one key, 0");
  }
  if (!bad.ok()) rejected_.fetch_add(1, std::memory_order_relaxed);
  return bad;
}

grpc::Status ParameterServerService::Pull(grpc::ServerContext* ctx, const rpc::PullRequest* req,
                                          rpc::PullResponse* resp) {
  if (grpc::Status run = CheckRun(req->run_id()); !run.ok()) return run;
  if (PsRequestRouter* r = router_.load(std::memory_order_acquire)) return r->Pull(ctx, req, resp);
  EmbeddingTable* table = nullptr;
  if (auto st = Validate(req->protocol_version(), req->table(), req->keys(), &table); !st.ok()) {
    return st;
  }
  std::vector<uint64_t> scratch;
  absl::Span<const uint64_t> keys = ViewArray(req->keys(), &scratch);
  const size_t n = keys.size();
  std::string* values = resp->mutable_values();
  values->resize(n * table->dim() * sizeof(float));
  uint8_t* found = nullptr;
  if (req->read_only()) {
    resp->mutable_found()->resize(n);
    found = reinterpret_cast<uint8_t*>(resp->mutable_found()->data());
  }
  // bsp: a pull sees exactly the clocks before its own; a read-only pull
  // (evaluation, between epochs) sees everything pushed.
  if (req->read_only()) {
    ordered_pushes_.ApplyAll();
  } else if (req->clock() > 0) {
    ordered_pushes_.ApplyBefore(req->clock());
  }
  table->Pull(keys, reinterpret_cast<float*>(values->data()), found);
  resp->set_dim(table->dim());
  pulls_.fetch_add(1, std::memory_order_relaxed);
  return grpc::Status::OK;
}

grpc::Status ParameterServerService::Push(grpc::ServerContext* ctx, const rpc::PushRequest* req,
                                          rpc::PushResponse* resp) {
  if (grpc::Status run = CheckRun(req->run_id()); !run.ok()) return run;
  if (PsRequestRouter* r = router_.load(std::memory_order_acquire)) return r->Push(ctx, req, resp);
  EmbeddingTable* table = nullptr;
  if (auto st = Validate(req->protocol_version(), req->table(), req->keys(), &table); !st.ok()) {
    return st;
  }
  const size_t n = req->keys().size() / sizeof(uint64_t);
  if (req->grads().size() != n * table->dim() * sizeof(float)) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrFormat("grads: %d bytes, expected %d keys x %d floats",
                                        req->grads().size(), n, table->dim()));
  }
  // 0 is proto3's "unset": clients that send no scale train at the base lr.
  const float lr_scale = req->lr_scale() == 0.0f ? 1.0f : req->lr_scale();
  if (!(lr_scale > 0) || !std::isfinite(lr_scale)) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrFormat("lr_scale %g: must be a positive number", lr_scale));
  }
  std::vector<uint64_t> key_scratch;
  std::vector<float> grad_scratch;
  absl::Span<const uint64_t> keys = ViewArray(req->keys(), &key_scratch);
  absl::Span<const float> grads = ViewArray(req->grads(), &grad_scratch);
  if (!AllFinite(grads)) {
    nonfinite_.fetch_add(1, std::memory_order_relaxed);
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "push refused: gradient contains NaN or infinity");
  }
  // A delta is the change an sgd step made on the worker; an optimizer with
  // state (adagrad, adam) would be skipped, and bsp orders gradients only.
  if (req->add_deltas() && (shard()->optimizer().state_floats() != 0 || req->clock() > 0)) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "push with add_deltas: only for sgd tables and unclocked pushes "
                        "(--sync_every needs --optimizer=sgd and --consistency=asp)");
  }
  if (req->assign() && (req->add_deltas() || req->clock() > 0)) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "push with assign: not with add_deltas or a clock");
  }
  if (req->seq() != 0) {
    switch (dedup_.TryClaim(req->worker_id(), req->seq())) {
      case PushDedupWindow::Claim::kNew:
        break;
      case PushDedupWindow::Claim::kDuplicate:
        resp->set_duplicate(true);
        return grpc::Status::OK;
      case PushDedupWindow::Claim::kTooOld:
        rejected_.fetch_add(1, std::memory_order_relaxed);
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            absl::StrFormat("push seq %d of worker %d is older than the last %d "
                                            "pushes this server remembers",
                                            req->seq(), req->worker_id(),
                                            PushDedupWindow::kWindow));
    }
  }
  if (req->assign()) {
    table->AssignRows(keys, grads.data());
  } else if (req->add_deltas()) {
    table->AddToRows(keys, grads.data());
  } else if (req->clock() > 0) {
    ordered_pushes_.ApplyBefore(req->clock());
    ordered_pushes_.Add(req->clock(), req->worker_id(), table, keys, grads,
                        shard()->lr() * lr_scale);
  } else {
    table->Push(keys, grads.data(), shard()->lr() * lr_scale);
  }
  resp->set_applied(static_cast<uint32_t>(n));
  pushes_.fetch_add(1, std::memory_order_relaxed);
  return grpc::Status::OK;
}

grpc::Status ParameterServerService::PullBatch(grpc::ServerContext* ctx,
                                                   const rpc::PullBatchRequest* req,
                                                   rpc::PullBatchResponse* resp) {
  for (const rpc::PullRequest& r : req->requests()) {
    if (grpc::Status s = Pull(ctx, &r, resp->add_responses()); !s.ok()) return s;
  }
  return grpc::Status::OK;
}

grpc::Status ParameterServerService::PushBatch(grpc::ServerContext* ctx,
                                                   const rpc::PushBatchRequest* req,
                                                   rpc::PushBatchResponse* resp) {
  for (const rpc::PushRequest& r : req->requests()) {
    if (grpc::Status s = Push(ctx, &r, resp->add_responses()); !s.ok()) return s;
  }
  return grpc::Status::OK;
}

grpc::Status ParameterServerService::Stats(grpc::ServerContext* ctx, const rpc::StatsRequest* req,
                                           rpc::StatsResponse* resp) {
  if (PsRequestRouter* r = router_.load(std::memory_order_acquire)) return r->Stats(ctx, req, resp);
  if (ShardState* s = shard()) {
    for (size_t i = 0; i < s->num_tables(); ++i) {
      EmbeddingTable* t = s->table(static_cast<uint32_t>(i));
      if (t == nullptr) continue;
      rpc::TableStats* ts = resp->add_tables();
      ts->set_table(t->config().id);
      ts->set_name(t->config().name);
      ts->set_rows(t->rows());
      ts->set_bytes(t->bytes());
      ts->set_optimizer_steps(t->optimizer_steps());
      ts->set_delta_rows(t->delta_rows());
    }
  }
  resp->set_pulls(pulls_.load());
  resp->set_pushes(pushes_.load());
  resp->set_rejected(rejected_.load());
  resp->set_nonfinite_rejected(nonfinite_.load());
  resp->set_over_limit_rejected(over_limit_.load());
  resp->set_rss_bytes(ResidentBytes());
  return grpc::Status::OK;
}

grpc::Status ParameterServerService::Save(grpc::ServerContext* ctx, const rpc::SaveRequest* req,
                                          rpc::SaveResponse* resp) {
  if (grpc::Status run = CheckRun(req->run_id()); !run.ok()) return run;
  if (PsRequestRouter* r = router_.load(std::memory_order_acquire)) return r->Save(ctx, req, resp);
  ShardState* s = shard();
  if (s == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not configured");
  if (req->average() == rpc::SAVE_AVERAGE_SNAPSHOT || req->average() == rpc::SAVE_AVERAGE_APPLY) {
    ordered_pushes_.ApplyAll();
    resp->set_average_snapshots(req->average() == rpc::SAVE_AVERAGE_SNAPSHOT
                                    ? averager_.Accumulate(*s)
                                    : averager_.Apply(*s));
    return grpc::Status::OK;
  }
  if (req->average() != rpc::SAVE_AVERAGE_NONE) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrFormat("Save: unknown average action %d", req->average()));
  }
  if (req->dir().empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "dir is empty");
  ordered_pushes_.ApplyAll();
  auto rows = s->Save(req->dir());
  if (!rows.ok()) return ToGrpc(rows.status());
  resp->set_rows(*rows);
  resp->set_path(absl::StrFormat("%s/shard-%d.psm", req->dir(), s->shard_index()));
  return grpc::Status::OK;
}

grpc::Status ParameterServerService::Shutdown(grpc::ServerContext*, const rpc::ShutdownRequest*,
                                              rpc::ShutdownResponse*) {
  if (shutdown_ != nullptr) shutdown_->Request();
  return grpc::Status::OK;
}

}  // namespace psrec
