#include "worker/hogwild_mf.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "common/config_proto.h"
#include "common/hash.h"
#include "common/model_spec.h"

namespace psrec {
namespace {

// Rows are ~130 bytes at random places in a table bigger than the cache:
// asking for the rows of the rating this far ahead overlaps their misses.
constexpr size_t kPrefetchAhead = 8;
// Ratings between progress reports (and lr schedule steps).
constexpr size_t kBlock = 1 << 16;
// Independent partial sums: a float reduction vectorizes only when its
// order is spelled out (no -ffast-math here).
constexpr int kLanes = 8;

void PrefetchRow(const float* row, uint32_t stride) {
  const char* p = reinterpret_cast<const char*>(row);
  for (size_t b = 0; b < stride * sizeof(float); b += 64) __builtin_prefetch(p + b, 1);
  __builtin_prefetch(p + stride * sizeof(float) - 1, 1);
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1+
#endif

// Backs the 2 MB regions holding `rows` with huge pages, now (MADV_COLLAPSE;
// where THP is madvise-only, as here, rows otherwise sit on 4 KB pages and
// every rating's rows cost TLB misses: +19% updates per CPU second measured
// with glibc's hugetlb tunable). Advice only: a kernel or region that says
// no leaves things as they were.
void BackWithHugePages(const std::vector<const float*>& rows, size_t row_bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  absl::flat_hash_set<uintptr_t> regions;
  for (const float* row : rows) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(row);
    regions.insert(a & ~(kHuge - 1));
    regions.insert((a + row_bytes - 1) & ~(kHuge - 1));
  }
  for (uintptr_t r : regions) {
    void* region = reinterpret_cast<void*>(r);
    if (::madvise(region, kHuge, MADV_HUGEPAGE) == 0) ::madvise(region, kHuge, MADV_COLLAPSE);
  }
}

}  // namespace

float MfScore(const float* p, const float* q, int n, float mean) {
  float lanes[kLanes] = {};
  int k = 1;
  for (; k + kLanes <= n; k += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] += p[k + l] * q[k + l];
  }
  float dot = 0.0f;
  for (; k < n; ++k) dot += p[k] * q[k];
  for (int l = 0; l < kLanes; ++l) dot += lanes[l];
  return mean + p[0] + q[0] + dot;
}

float MfSgdStep(float* p, float* q, int n, float mean, float label, float grad_scale, float lr,
                float l2, float* scratch) {
  const float e = MfScore(p, q, n, mean) - label;
  const float d = grad_scale * e;
  float* gp = scratch;
  float* gq = scratch + n;
  gp[0] = d;
  gq[0] = d;
  for (int k = 1; k < n; ++k) {
    gp[k] = d * q[k];
    gq[k] = d * p[k];
  }
  SgdUpdate(p, gp, n, lr, l2, 1);
  SgdUpdate(q, gq, n, lr, l2, 1);
  return e * e;
}

namespace {

// The loop behind both MfSgdSweeps; rows(rating) gives the rating's two rows.
template <typename Rating, typename Rows>
double Sweep(absl::Span<const Rating> ratings, const MfSgdParams& p, float lr, Rows rows,
             float* scratch) {
  double loss = 0;
  const size_t n = ratings.size();
  for (size_t j = 0; j < n; ++j) {
    if (j + kPrefetchAhead < n) {
      const auto [u, i] = rows(ratings[j + kPrefetchAhead]);
      PrefetchRow(u, p.stride);
      PrefetchRow(i, p.stride);
    }
    const auto [u, i] = rows(ratings[j]);
    loss += MfSgdStep(u, i, p.dim, p.mean, ratings[j].label, p.grad_scale, lr, p.l2, scratch);
  }
  return loss;
}

}  // namespace

MfSgdParams MfSgdParamsOf(const rpc::RunConfig& config, const TableConfig& table,
                          float optimizer_lr, uint32_t stride) {
  MfSgdParams p;
  p.dim = static_cast<int>(table.dim);
  p.stride = stride;
  p.mean = static_cast<float>(config.global_mean());
  p.grad_scale = 2.0f / static_cast<float>(std::max<uint32_t>(1, config.batch_size()));
  p.lr = optimizer_lr * table.lr_scale;
  p.l2 = table.l2;
  return p;
}

double MfSgdSweep(absl::Span<const MfRatingRows> ratings, const MfSgdParams& p, float lr,
                  float* scratch) {
  return Sweep(ratings, p, lr, [](const MfRatingRows& r) { return std::pair(r.user, r.item); },
               scratch);
}

double MfSgdSweep(absl::Span<const MfRatingSlots> ratings, float* users, float* items,
                  const MfSgdParams& p, float lr, float* scratch) {
  const size_t stride = p.stride;
  return Sweep(
      ratings, p, lr,
      [users, items, stride](const MfRatingSlots& r) {
        return std::pair(users + r.user * stride, items + r.item * stride);
      },
      scratch);
}

HogwildMf::HogwildMf(const rpc::RunConfig& config, const Optimizer* optimizer,
                     const TableConfig& table)
    : optimizer_(optimizer),
      sgd_(config.optimizer() == "sgd"),
      params_(MfSgdParamsOf(config, table, optimizer->lr(),
                            table.dim * (1 + optimizer->state_floats()))),
      l2_begin_(static_cast<int>(table.zero_prefix)),
      seed_(config.seed()),
      schedule_(LrScheduleFromConfig(config)) {}

absl::StatusOr<std::unique_ptr<HogwildMf>> HogwildMf::Create(ShardState* shard,
                                                             const rpc::RunConfig& config,
                                                             absl::Span<const Interaction> train) {
  EmbeddingTable* users = shard->table(kUserTable);
  EmbeddingTable* items = shard->table(kItemTable);
  if (config.model() != "mf" || users == nullptr || items == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--servers=0 trains --model=mf only (got --model=%s); other models need servers",
        config.model()));
  }
  const TableConfig& table = users->config();
  if (table.zero_prefix != 1 || items->dim() != table.dim || table.l2 != items->config().l2 ||
      table.lr_scale != items->config().lr_scale) {
    return absl::InternalError("mf tables: user and item rows differ, or have no bias");
  }
  if (train.size() >= (uint64_t{1} << 32)) {
    return absl::InvalidArgumentError("--servers=0: more than 2^32 - 1 ratings");
  }
  auto mf = std::unique_ptr<HogwildMf>(new HogwildMf(config, &shard->optimizer(), table));
  // Each distinct id to its row once, in order of first appearance (as a
  // worker's first pull would create them).
  absl::flat_hash_map<uint64_t, std::pair<float*, uint32_t>> user_rows, item_rows;
  mf->ratings_.reserve(train.size());
  if (!mf->sgd_) mf->indices_.reserve(train.size());
  for (const Interaction& x : train) {
    auto [u, new_user] = user_rows.try_emplace(x.user, nullptr, user_rows.size());
    if (new_user) u->second.first = users->StableRow(x.user);
    auto [i, new_item] = item_rows.try_emplace(x.item, nullptr, item_rows.size());
    if (new_item) i->second.first = items->StableRow(x.item);
    mf->ratings_.push_back({u->second.first, i->second.first, x.rating});
    if (!mf->sgd_) mf->indices_.push_back({u->second.second, i->second.second});
  }
  mf->users_ = user_rows.size();
  mf->items_ = item_rows.size();
  std::vector<const float*> rows;
  rows.reserve(mf->users_ + mf->items_);
  for (const auto& [id, row] : user_rows) rows.push_back(row.first);
  for (const auto& [id, row] : item_rows) rows.push_back(row.first);
  BackWithHugePages(rows, mf->params_.stride * sizeof(float));
  if (!mf->sgd_) {
    mf->user_steps_.reset(new std::atomic<uint32_t>[mf->users_]());
    mf->item_steps_.reset(new std::atomic<uint32_t>[mf->items_]());
  }
  // One shuffle: file order groups a user's ratings, which SGD must not see
  // in a row. Each epoch then starts each thread at a different place.
  CounterRng rng(config.seed(), 0x686f67ULL, 0);
  std::vector<Rating>& r = mf->ratings_;
  for (size_t i = r.size(); i > 1; --i) {
    const size_t j = rng.Next() % i;
    std::swap(r[i - 1], r[j]);
    if (!mf->sgd_) std::swap(mf->indices_[i - 1], mf->indices_[j]);
  }
  return mf;
}

HogwildEpochResult HogwildMf::RunEpoch(uint32_t epoch, int threads, std::atomic<uint64_t>* done) {
  const size_t n = ratings_.size();
  const int t_count = std::max(1, threads);
  std::vector<HogwildEpochResult> results(t_count);
  std::vector<std::thread> pool;
  for (int t = 0; t < t_count; ++t) {
    const size_t begin = n * t / t_count, end = n * (t + 1) / t_count;
    const uint64_t start_seed = Mix64(seed_ ^ Mix64(epoch + 1) ^ Mix64(t + 0x100));
    pool.emplace_back([this, epoch, begin, end, start_seed, done, &results, t] {
      results[t] = RunShare(epoch, begin, end, start_seed, done);
    });
  }
  HogwildEpochResult total;
  for (int t = 0; t < t_count; ++t) {
    pool[t].join();
    total.examples += results[t].examples;
    total.loss_sum += results[t].loss_sum;
  }
  return total;
}

HogwildEpochResult HogwildMf::RunShare(uint32_t epoch, size_t begin, size_t end,
                                       uint64_t start_seed, std::atomic<uint64_t>* done) {
  HogwildEpochResult result;
  const size_t len = end - begin;
  if (len == 0) return result;
  const size_t start = start_seed % len;
  std::vector<float> scratch(2 * static_cast<size_t>(params_.dim));
  const int n = params_.dim;
  // Positions begin + (start + j) % len for j in [0, len): the share, rotated.
  auto pos = [&](size_t j) {
    size_t k = start + j;
    if (k >= len) k -= len;
    return begin + k;
  };
  for (size_t block = 0; block < len; block += kBlock) {
    const size_t block_end = std::min(len, block + kBlock);
    // The schedule at the middle of the block, as the batch path takes it
    // at the middle of a batch.
    const float lr = params_.lr * static_cast<float>(schedule_.Multiplier(
                                      epoch, 0.5 * static_cast<double>(block + block_end) / len));
    double loss = 0;
    if (sgd_) {
      // The block's ratings as at most two runs (the share is rotated).
      for (size_t j = block; j < block_end;) {
        const size_t at = pos(j);
        const size_t run = std::min(block_end - j, end - at);
        loss += MfSgdSweep(absl::MakeConstSpan(ratings_.data() + at, run), params_, lr,
                           scratch.data());
        j += run;
      }
    }
    for (size_t j = block; !sgd_ && j < block_end; ++j) {
      if (j + kPrefetchAhead < len) {
        const Rating& ahead = ratings_[pos(j + kPrefetchAhead)];
        PrefetchRow(ahead.user, params_.stride);
        PrefetchRow(ahead.item, params_.stride);
      }
      const size_t at = pos(j);
      const Rating& r = ratings_[at];
      float* p = r.user;
      float* q = r.item;
      // Other optimizers: the same gradients, their own Apply on each row.
      const float e = MfScore(p, q, n, params_.mean) - r.label;
      const float d = params_.grad_scale * e;
      float* gp = scratch.data();
      float* gq = gp + n;
      gp[0] = gq[0] = d;
      for (int k = 1; k < n; ++k) {
        gp[k] = d * q[k];
        gq[k] = d * p[k];
      }
      const RowIndices& ix = indices_[at];
      const uint32_t su = user_steps_[ix.user].fetch_add(1, std::memory_order_relaxed) + 1;
      const uint32_t si = item_steps_[ix.item].fetch_add(1, std::memory_order_relaxed) + 1;
      optimizer_->Apply(p, p + n, gp, n, lr, params_.l2, su, l2_begin_);
      optimizer_->Apply(q, q + n, gq, n, lr, params_.l2, si, l2_begin_);
      loss += e * e;
    }
    result.loss_sum += loss;
    result.examples += block_end - block;
    done->fetch_add(block_end - block, std::memory_order_relaxed);
  }
  return result;
}

}  // namespace psrec
