#include "worker/trainer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "common/config_proto.h"
#include "common/hash.h"

namespace psrec {

Trainer::Trainer(const rpc::RunConfig& config, const Model* model, PsClient* ps,
                 const NegativeSampler* sampler, const ImplicitFeedback* implicit)
    : config_(config),
      model_(model),
      sampler_(sampler),
      // worker_main refuses a config whose loss does not parse.
      loss_(ParseLoss(config.loss(), config.task()).value_or(Loss::kLogistic)),
      schedule_(LrScheduleFromConfig(config)),
      recency_(RecencyFromConfig(config).enabled()),
      slots_{BatchSlot(model, ps, implicit), BatchSlot(model, ps, implicit)} {}

void Trainer::FillBatch(const ShardView& shard, size_t begin, size_t end, bool pairwise,
                        BatchSlot* slot) const {
  const bool ranking = config_.task() == "ranking";
  slot->users.clear();
  slot->items.clear();
  slot->labels.clear();
  slot->weights.clear();
  const bool identity = example_row_.empty();
  auto row_of = [&](uint32_t e) -> size_t { return identity ? e : example_row_[e]; };
  for (size_t i = begin; i < end; ++i) {
    const uint32_t e = order_[i];
    const size_t row = row_of(e);
    slot->users.push_back(shard.user(row));
    const uint32_t item = identity ? kPositive : example_item_[e];
    slot->items.push_back(pairwise || item == kPositive ? shard.item(row) : sampler_->item(item));
    if (!pairwise) slot->labels.push_back(!ranking ? shard.rating(row) : item == kPositive);
    // A sampled negative weighs what its positive does.
    if (recency_) slot->weights.push_back(shard.weight(row));
  }
  if (pairwise) {
    // Rows [0, P) positives, row P + k the negative of row k (worker/loss.h).
    for (size_t i = begin; i < end; ++i) {
      const uint32_t e = order_[i];
      slot->users.push_back(shard.user(row_of(e)));
      slot->items.push_back(sampler_->item(example_item_[e]));
    }
    slot->labels.assign(slot->users.size(), 0.0f);
    if (recency_) {
      const size_t pairs = slot->weights.size();
      for (size_t k = 0; k < pairs; ++k) slot->weights.push_back(slot->weights[k]);
    }
  }
}

absl::StatusOr<ShardResult> Trainer::TrainShard(const ShardView& shard, uint32_t epoch,
                                                uint32_t shard_id,
                                                const std::function<bool()>& stop) {
  if (windowed_ != nullptr) {
    shard_examples_done_.store(0);
    shard_loss_sum_.store(0);
    shard_examples_.store(shard.size());
    auto r = windowed_->TrainShard(shard, epoch, shard_id, stop, [this](uint64_t n, double loss) {
      shard_examples_done_.store(n, std::memory_order_relaxed);
      shard_loss_sum_.store(loss, std::memory_order_relaxed);
    });
    if (!r.ok()) return r.status();
    return ShardResult{r->examples, r->loss_sum};
  }
  const bool ranking = config_.task() == "ranking";
  const bool pairwise = loss_ == Loss::kBpr;
  const uint32_t neg = ranking ? config_.negatives() : 0;
  CounterRng rng(config_.seed(), 0x7261696eULL + epoch, shard_id);

  // Pointwise: one example per positive and per sampled negative. Pairwise
  // (bpr): one example per (positive, sampled negative) pair. The draws come
  // in the same order as ever (row by row, then the shuffle), so a seed
  // trains as it did when examples were held as raw ids.
  example_row_.clear();
  example_item_.clear();
  if (neg > 0 || pairwise) {
    const size_t per_row = pairwise ? neg : neg + 1;
    example_row_.reserve(shard.size() * per_row);
    example_item_.reserve(shard.size() * per_row);
    for (size_t r = 0; r < shard.size(); ++r) {
      const uint64_t user = shard.user(r);
      if (!pairwise) {
        example_row_.push_back(static_cast<uint32_t>(r));
        example_item_.push_back(kPositive);
      }
      for (uint32_t n = 0; n < neg; ++n) {
        example_row_.push_back(static_cast<uint32_t>(r));
        example_item_.push_back(sampler_->SampleIndex(user, rng));
      }
    }
  }
  if (example_row_.capacity() > 2 * example_row_.size() + (1 << 20)) {
    // A much smaller shard than the last: give the memory back.
    example_row_.shrink_to_fit();
    example_item_.shrink_to_fit();
  }
  const size_t total = (neg > 0 || pairwise) ? example_row_.size() : shard.size();
  order_.resize(total);
  for (uint32_t i = 0; i < total; ++i) order_[i] = i;
  // Fisher-Yates with the counter RNG: the same order on any machine.
  for (size_t i = total; i > 1; --i) std::swap(order_[i - 1], order_[rng.Next() % i]);

  ShardResult result;
  shard_examples_done_.store(0);
  shard_loss_sum_.store(0);
  shard_examples_.store(total);
  // batch_size counts rows: a pair is two (positive and negative).
  const size_t batch =
      std::max<size_t>(1, pairwise ? config_.batch_size() / 2 : config_.batch_size());
  uint64_t batch_index = 0;
  // Pulling batch t+1 overlaps computing and pushing batch t: the worker's
  // CPU and the servers' no longer take turns (each batch was pull, compute,
  // push in sequence). Batch t+1's rows are then read before batch t's
  // update lands: one batch of staleness, as another worker's push would be.
  // Under ssp and bsp a batch is a clock whose pulls must come after the
  // previous clock ended, so there each batch is pull, compute, push.
  const bool overlap = clock_ == nullptr;
  auto gather = [](BatchSlot* s) {
    return s->assembler.Gather(s->users, s->items, /*read_only=*/false);
  };
  int cur = 0;
  if (overlap && total > 0) {
    FillBatch(shard, 0, std::min(total, batch), pairwise, &slots_[cur]);
    if (auto s = gather(&slots_[cur]); !s.ok()) return s;
  }
  for (size_t begin = 0; begin < total; begin += batch) {
    if (stop()) return absl::CancelledError("stopped between batches");
    const size_t end = std::min(total, begin + batch);
    BatchSlot& slot = slots_[cur];
    if (!overlap) {
      FillBatch(shard, begin, end, pairwise, &slot);
      clock_->BeginBatch();
      if (auto s = gather(&slot); !s.ok()) return s;
    }
    BatchSlot& next = slots_[1 - cur];
    if (overlap && end < total) {
      FillBatch(shard, end, std::min(total, end + batch), pairwise, &next);
      prefetch_.Start([&next, &gather] { return gather(&next); });
    }
    // Waits for the next batch's pull on every way out of this iteration.
    auto wait_next = [this] { return prefetch_.Wait(); };
    BatchView view = slot.assembler.View(slot.labels.data());
    if (!slot.weights.empty()) view.weights = slot.weights.data();
    // Dropout masks from (seed, epoch, shard, batch): reruns are identical.
    view.dropout_seed = Mix64(Mix64(config_.seed() ^ Mix64(epoch + 1)) ^
                              Mix64((static_cast<uint64_t>(shard_id) << 32) ^ ++batch_index)) |
                        1;
    const double loss =
        model_->ForwardBackward(view, loss_, &grads_, epoch < config_.pretrain_epochs(), &workspace_);
    if (!std::isfinite(loss)) {
      wait_next().IgnoreError();
      return absl::InternalError(absl::StrFormat(
          "training diverged: loss is %g in epoch %d shard %d (lower --lr?)", loss, epoch,
          shard_id));
    }
    // The schedule at the middle of this batch's share of the shard: the
    // first warm-up batch does not get 0, nor a batch before the end the
    // schedule's final value. Shards run side by side, so the shard's
    // progress stands for the epoch's.
    const double lr_scale = schedule_.Multiplier(epoch, 0.5 * (begin + end) / total);
    const absl::Status pushed = slot.assembler.Push(grads_, static_cast<float>(lr_scale));
    const absl::Status pulled = wait_next();
    if (!pushed.ok()) return pushed;
    if (!pulled.ok()) return pulled;
    if (overlap) {
      cur = 1 - cur;
    } else if (auto s = clock_->EndBatch(); !s.ok()) {
      return s;
    }
    result.examples += end - begin;
    result.loss_sum += loss * static_cast<double>(end - begin);
    shard_examples_done_.store(result.examples, std::memory_order_relaxed);
    shard_loss_sum_.store(result.loss_sum, std::memory_order_relaxed);
  }
  return result;
}

}  // namespace psrec
