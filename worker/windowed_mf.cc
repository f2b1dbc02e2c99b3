#include "worker/windowed_mf.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_format.h"
#include "common/config_proto.h"
#include "common/hash.h"
#include "common/model_spec.h"

namespace psrec {
namespace {

// Ratings between lr schedule steps, as in the single-process loop.
constexpr size_t kBlock = 1 << 16;

using Run = absl::Span<const MfRatingSlots>;

}  // namespace

uint32_t WindowedMf::LocalRows::SlotOf(uint64_t id) {
  auto [it, inserted] = slot_of.try_emplace(id, static_cast<uint32_t>(keys.size()));
  if (inserted) keys.push_back(id);
  return it->second;
}

WindowedMf::WindowedMf(const rpc::RunConfig& config, PsClient* ps, const MfSgdParams& params)
    : config_(config),
      ps_(ps),
      params_(params),
      schedule_(LrScheduleFromConfig(config)),
      scratch_(2 * static_cast<size_t>(params.dim)) {}

absl::StatusOr<std::unique_ptr<WindowedMf>> WindowedMf::Create(const rpc::RunConfig& config,
                                                               PsClient* ps) {
  if (auto s = CheckSyncEvery(config); !s.ok()) return s;
  if (config.sync_every() == 0) {
    return absl::InvalidArgumentError("windowed mf needs --sync_every > 0");
  }
  const std::vector<TableConfig> tables = TablesFromConfig(config);
  const TableConfig* users = nullptr;
  const TableConfig* items = nullptr;
  for (const TableConfig& t : tables) {
    if (t.id == kUserTable) users = &t;
    if (t.id == kItemTable) items = &t;
  }
  if (users == nullptr || items == nullptr || users->zero_prefix != 1 || items->dim != users->dim ||
      items->l2 != users->l2 || items->lr_scale != users->lr_scale) {
    return absl::InvalidArgumentError("--sync_every: mf tables differ, or have no bias");
  }
  // The local copies hold parameters only: a row's stride is its dim.
  const MfSgdParams params = MfSgdParamsOf(config, *users, config.lr(), users->dim);
  return std::unique_ptr<WindowedMf>(new WindowedMf(config, ps, params));
}

const std::vector<MfRatingSlots>& WindowedMf::ShardRatings(const ShardView& shard,
                                                           uint32_t shard_id) {
  auto [it, inserted] = shards_.try_emplace(shard_id);
  std::vector<MfRatingSlots>& ratings = it->second;
  if (!inserted && ratings.size() == shard.size()) return ratings;
  ratings.clear();
  ratings.reserve(shard.size());
  for (size_t i = 0; i < shard.size(); ++i) {
    ratings.push_back({users_.SlotOf(shard.user(i)), items_.SlotOf(shard.item(i)), shard.rating(i)});
  }
  for (LocalRows* rows : {&users_, &items_}) {
    rows->values.resize(rows->keys.size() * params_.dim);
    rows->stamp.resize(rows->keys.size(), 0);
  }
  // One shuffle (data files group a user's ratings, which SGD must not see
  // in a row); each epoch then starts the shard at a different place.
  CounterRng rng(config_.seed(), 0x77696e64ULL, shard_id);
  for (size_t i = ratings.size(); i > 1; --i) std::swap(ratings[i - 1], ratings[rng.Next() % i]);
  return ratings;
}

absl::StatusOr<WindowedShardResult> WindowedMf::TrainShard(
    const ShardView& shard, uint32_t epoch, uint32_t shard_id,
    const std::function<bool()>& stop, const std::function<void(uint64_t, double)>& progress) {
  const std::vector<MfRatingSlots>& ratings = ShardRatings(shard, shard_id);
  WindowedShardResult result;
  const size_t n = ratings.size();
  if (n == 0) return result;
  const size_t start = Mix64(config_.seed() ^ Mix64(epoch + 1) ^ Mix64(shard_id + 0x100)) % n;
  const size_t window = std::max<uint64_t>(1, config_.sync_every());
  for (size_t begin = 0; begin < n; begin += window) {
    if (stop()) return absl::CancelledError("stopped between windows");
    const size_t end = std::min(n, begin + window);
    // Positions (start + j) % n for j in [begin, end): at most two runs.
    absl::InlinedVector<Run, 2> runs;
    for (size_t j = begin; j < end;) {
      const size_t at = (start + j) % n;
      const size_t len = std::min(end - j, n - at);
      runs.push_back(Run(ratings.data() + at, len));
      j += len;
    }
    auto loss = TrainWindow(runs, epoch, static_cast<double>(begin) / static_cast<double>(n),
                            static_cast<double>(end) / static_cast<double>(n));
    if (!loss.ok()) return loss.status();
    result.examples += end - begin;
    result.loss_sum += *loss;
    progress(result.examples, result.loss_sum);
  }
  return result;
}

absl::StatusOr<double> WindowedMf::TrainWindow(absl::Span<const Run> runs, uint32_t epoch,
                                               double progress_begin, double progress_end) {
  const size_t dim = static_cast<size_t>(params_.dim);
  // The window's distinct rows: a slot joins when first seen this window.
  const uint64_t id = ++window_id_;
  users_.window_slots.clear();
  items_.window_slots.clear();
  size_t count = 0;
  for (const Run& run : runs) {
    count += run.size();
    for (const MfRatingSlots& r : run) {
      if (users_.stamp[r.user] != id) {
        users_.stamp[r.user] = id;
        users_.window_slots.push_back(r.user);
      }
      if (items_.stamp[r.item] != id) {
        items_.stamp[r.item] = id;
        items_.window_slots.push_back(r.item);
      }
    }
  }
  for (LocalRows* rows : {&users_, &items_}) {
    rows->window_keys.resize(rows->window_slots.size());
    for (size_t j = 0; j < rows->window_slots.size(); ++j) {
      rows->window_keys[j] = rows->keys[rows->window_slots[j]];
    }
    rows->pulled.resize(rows->window_slots.size() * dim);
  }
  const PullOp pulls[] = {{kUserTable, users_.window_keys, users_.pulled.data()},
                          {kItemTable, items_.window_keys, items_.pulled.data()}};
  if (auto s = ps_->Pull(pulls, /*read_only=*/false); !s.ok()) return s;
  for (LocalRows* rows : {&users_, &items_}) {
    for (size_t j = 0; j < rows->window_slots.size(); ++j) {
      std::memcpy(rows->values.data() + rows->window_slots[j] * dim, rows->pulled.data() + j * dim,
                  dim * sizeof(float));
    }
  }

  // The sweeps, the lr schedule stepped every kBlock ratings at the block's
  // middle (as the single-process loop does).
  double loss = 0;
  size_t done = 0;
  for (const Run& run : runs) {
    for (size_t b = 0; b < run.size(); b += kBlock) {
      const size_t len = std::min(kBlock, run.size() - b);
      const double middle =
          (static_cast<double>(done) + 0.5 * static_cast<double>(len)) / static_cast<double>(count);
      const float lr =
          params_.lr * static_cast<float>(schedule_.Multiplier(
                           epoch, progress_begin + middle * (progress_end - progress_begin)));
      loss += MfSgdSweep(run.subspan(b, len), users_.values.data(), items_.values.data(), params_,
                         lr, scratch_.data());
      done += len;
    }
  }
  if (!std::isfinite(loss)) {
    return absl::InternalError(absl::StrFormat(
        "training diverged: squared error %g in a window of epoch %d (lower --lr?)", loss, epoch));
  }

  // Each row's change since its pull, pushed once.
  for (LocalRows* rows : {&users_, &items_}) {
    float* delta = rows->pulled.data();
    for (size_t j = 0; j < rows->window_slots.size(); ++j, delta += dim) {
      const float* now = rows->values.data() + rows->window_slots[j] * dim;
      for (size_t k = 0; k < dim; ++k) delta[k] = now[k] - delta[k];
    }
  }
  PushOp pushes[] = {{kUserTable, users_.window_keys, users_.pulled.data()},
                     {kItemTable, items_.window_keys, items_.pulled.data()}};
  for (PushOp& p : pushes) p.add_deltas = true;
  if (auto s = ps_->Push(pushes); !s.ok()) return s;
  windows_.fetch_add(1, std::memory_order_relaxed);
  rows_pushed_.fetch_add(users_.window_slots.size() + items_.window_slots.size(),
                         std::memory_order_relaxed);
  return loss;
}

}  // namespace psrec
