#include "server/embedding_table.h"

#include <cstring>

#include "common/hash.h"

namespace psrec {
namespace {

// Rows of a large table miss the cache; asking for a row this many keys
// ahead of its use overlaps those misses.
constexpr uint32_t kPrefetchAhead = 4;
// Likewise for a key's bucket in its stripe's SlotIndex: far enough ahead
// that the load is done when the lookup comes (a lookup is ~20 ns of work).
constexpr uint32_t kLookupAhead = 8;

uint32_t RoundUpPow2(int n) {
  uint32_t p = 1;
  while (p < static_cast<uint32_t>(n)) p <<= 1;
  return p;
}

}  // namespace

EmbeddingTable::EmbeddingTable(const TableConfig& config, const Optimizer* optimizer,
                               uint64_t seed, int num_stripes)
    : config_(config),
      optimizer_(optimizer),
      seed_(seed),
      stride_(config.dim * (1 + optimizer->state_floats())),
      rows_per_block_(config.dense ? 1 : kRowsPerBlock),
      stripes_(new Stripe[RoundUpPow2(config.dense ? 1 : num_stripes)]),
      stripe_mask_(RoundUpPow2(config.dense ? 1 : num_stripes) - 1) {}

uint32_t EmbeddingTable::StripeIndex(uint64_t id) const {
  // High bits: the low bits of Mix64 also pick the map bucket.
  return static_cast<uint32_t>(Mix64(id) >> 40) & stripe_mask_;
}

EmbeddingTable::Stripe& EmbeddingTable::StripeOf(uint64_t id) const {
  return stripes_[StripeIndex(id)];
}

float* EmbeddingTable::RowPtr(const Stripe& s, uint32_t slot) const {
  return s.blocks[slot / rows_per_block_].get() +
         static_cast<size_t>(slot % rows_per_block_) * stride_;
}

void EmbeddingTable::InitRow(uint64_t id, float* p) const {
  CounterRng rng(seed_, config_.id, id);
  for (uint32_t i = 0; i < config_.dim; ++i) {
    if (i < config_.zero_prefix) {
      p[i] = 0.0f;
    } else if (config_.init_uniform > 0) {
      p[i] = static_cast<float>((rng.Uniform() * 2.0 - 1.0) * config_.init_uniform);
    } else {
      p[i] = static_cast<float>(rng.Normal() * config_.init_std);
    }
  }
}

uint32_t EmbeddingTable::FindOrCreate(Stripe& s, uint64_t id) {
  bool inserted = false;
  const uint32_t slot =
      s.slots.FindOrInsert(id, static_cast<uint32_t>(s.ids.size()), &inserted);
  if (!inserted) return slot;
  if (slot / rows_per_block_ >= s.blocks.size()) {
    s.blocks.emplace_back(new float[static_cast<size_t>(rows_per_block_) * stride_]);
  }
  float* row = RowPtr(s, slot);
  InitRow(id, row);
  std::memset(row + config_.dim, 0, sizeof(float) * (stride_ - config_.dim));
  s.ids.push_back(id);
  s.steps.push_back(0);
  rows_.fetch_add(1, std::memory_order_relaxed);
  return slot;
}

std::vector<uint32_t> EmbeddingTable::OrderByStripe(absl::Span<const uint64_t> keys,
                                                    std::vector<uint32_t>* stripe_end) const {
  // A stable counting sort: keys of one stripe keep their request order, so
  // rows are created (and slots assigned) exactly as a key-by-key loop would.
  const uint32_t num_stripes = stripe_mask_ + 1;
  std::vector<uint32_t> stripe_of(keys.size());
  stripe_end->assign(num_stripes, 0);
  for (size_t i = 0; i < keys.size(); ++i) {
    stripe_of[i] = StripeIndex(keys[i]);
    ++(*stripe_end)[stripe_of[i]];
  }
  std::vector<uint32_t> next(num_stripes);
  uint32_t total = 0;
  for (uint32_t s = 0; s < num_stripes; ++s) {
    next[s] = total;
    total += (*stripe_end)[s];
    (*stripe_end)[s] = total;
  }
  std::vector<uint32_t> order(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) order[next[stripe_of[i]]++] = static_cast<uint32_t>(i);
  return order;
}

void EmbeddingTable::PrefetchRow(const Stripe& s, uint32_t slot) const {
  const char* row = reinterpret_cast<const char*>(RowPtr(s, slot));
  for (size_t b = 0; b < stride_ * sizeof(float); b += 64) __builtin_prefetch(row + b);
}

void EmbeddingTable::Pull(absl::Span<const uint64_t> keys, float* out, uint8_t* found) {
  const size_t dim = config_.dim;
  // One lock per stripe per request, not one per key: at 100k keys the
  // per-key lock was the largest cost of a pull after the copies.
  std::vector<uint32_t> stripe_end;
  const std::vector<uint32_t> order = OrderByStripe(keys, &stripe_end);
  std::vector<uint32_t> slot_of(found == nullptr ? keys.size() : 0);  // by position in order
  uint32_t begin = 0;
  for (uint32_t si = 0; si <= stripe_mask_; ++si) {
    const uint32_t end = stripe_end[si];
    if (begin == end) continue;
    Stripe& s = stripes_[si];
    absl::MutexLock lock(&s.mu);
    if (found != nullptr) {
      for (uint32_t j = begin; j < end; ++j) {
        if (j + kLookupAhead < end) s.slots.Prefetch(keys[order[j + kLookupAhead]]);
        const uint32_t i = order[j];
        float* dst = out + i * dim;
        const uint32_t slot = s.slots.Find(keys[i]);
        found[i] = slot != SlotIndex::kMissing;
        if (found[i]) {
          std::memcpy(dst, RowPtr(s, slot), dim * sizeof(float));
        } else {
          std::memset(dst, 0, dim * sizeof(float));
        }
      }
    } else {
      // Lookups first, copies second: each pass is a short loop of
      // independent cache misses the CPU overlaps (see FindSlots).
      FindSlots(s, keys, order, begin, end, slot_of.data());
      for (uint32_t j = begin; j < end; ++j) {
        if (j + kPrefetchAhead < end) PrefetchRow(s, slot_of[j + kPrefetchAhead]);
        std::memcpy(out + order[j] * dim, RowPtr(s, slot_of[j]), dim * sizeof(float));
      }
    }
    begin = end;
  }
}

void EmbeddingTable::FindSlots(Stripe& s, absl::Span<const uint64_t> keys,
                               const std::vector<uint32_t>& order, uint32_t begin, uint32_t end,
                               uint32_t* slot_of) {
  // A loop of lookups only: the misses on the map's memory of consecutive
  // keys are independent, so the CPU overlaps them; interleaved with the
  // optimizer's arithmetic they were serialised (FindOrCreate was 60% of a
  // 100k-key push's server time). Prefetching the buckets ahead overlaps
  // them further.
  for (uint32_t j = begin; j < end; ++j) {
    if (j + kLookupAhead < end) s.slots.Prefetch(keys[order[j + kLookupAhead]]);
    slot_of[j] = FindOrCreate(s, keys[order[j]]);
  }
}

template <typename Update>
void EmbeddingTable::UpdateRows(absl::Span<const uint64_t> keys, Update update) {
  optimizer_steps_.fetch_add(keys.size(), std::memory_order_relaxed);
  std::vector<uint32_t> stripe_end;
  const std::vector<uint32_t> order = OrderByStripe(keys, &stripe_end);
  std::vector<uint32_t> slot_of(keys.size());  // by position in order
  uint32_t begin = 0;
  for (uint32_t si = 0; si <= stripe_mask_; ++si) {
    const uint32_t end = stripe_end[si];
    if (begin == end) continue;
    Stripe& s = stripes_[si];
    absl::MutexLock lock(&s.mu);
    FindSlots(s, keys, order, begin, end, slot_of.data());
    for (uint32_t j = begin; j < end; ++j) {
      if (j + kPrefetchAhead < end) PrefetchRow(s, slot_of[j + kPrefetchAhead]);
      const uint32_t slot = slot_of[j];
      update(RowPtr(s, slot), order[j], ++s.steps[slot]);
    }
    begin = end;
  }
}

void EmbeddingTable::Push(absl::Span<const uint64_t> keys, const float* grads, float lr) {
  const size_t dim = config_.dim;
  const float table_lr = lr * config_.lr_scale;
  UpdateRows(keys, [&](float* row, uint32_t i, uint32_t step) {
    optimizer_->Apply(row, row + dim, grads + i * dim, static_cast<int>(dim), table_lr,
                      config_.l2, step, static_cast<int>(config_.zero_prefix));
  });
}

void EmbeddingTable::AddToRows(absl::Span<const uint64_t> keys, const float* deltas) {
  const size_t dim = config_.dim;
  delta_rows_.fetch_add(keys.size(), std::memory_order_relaxed);
  UpdateRows(keys, [&](float* row, uint32_t i, uint32_t) {
    const float* d = deltas + i * dim;
    for (size_t k = 0; k < dim; ++k) row[k] += d[k];
  });
}

void EmbeddingTable::AssignRows(absl::Span<const uint64_t> keys, const float* values) {
  for (size_t i = 0; i < keys.size(); ++i) Insert(keys[i], values + i * config_.dim);
}

float* EmbeddingTable::StableRow(uint64_t id) {
  Stripe& s = StripeOf(id);
  absl::MutexLock lock(&s.mu);
  return RowPtr(s, FindOrCreate(s, id));
}

void EmbeddingTable::Insert(uint64_t id, const float* params) {
  Stripe& s = StripeOf(id);
  absl::MutexLock lock(&s.mu);
  uint32_t slot = FindOrCreate(s, id);
  float* row = RowPtr(s, slot);
  std::memcpy(row, params, config_.dim * sizeof(float));
  std::memset(row + config_.dim, 0, sizeof(float) * (stride_ - config_.dim));
  s.steps[slot] = 0;
}

void EmbeddingTable::SetParameters(uint64_t id, const float* params) {
  Stripe& s = StripeOf(id);
  absl::MutexLock lock(&s.mu);
  std::memcpy(RowPtr(s, FindOrCreate(s, id)), params, config_.dim * sizeof(float));
}

void EmbeddingTable::ForEach(const std::function<void(uint64_t, const float*)>& fn) const {
  for (uint32_t i = 0; i <= stripe_mask_; ++i) {
    const Stripe& s = stripes_[i];
    absl::MutexLock lock(&s.mu);
    for (uint32_t slot = 0; slot < s.ids.size(); ++slot) fn(s.ids[slot], RowPtr(s, slot));
  }
}

void EmbeddingTable::ForEachWithState(
    const std::function<void(uint64_t, const float*, uint32_t)>& fn) const {
  for (uint32_t i = 0; i <= stripe_mask_; ++i) {
    const Stripe& s = stripes_[i];
    absl::MutexLock lock(&s.mu);
    for (uint32_t slot = 0; slot < s.ids.size(); ++slot) {
      fn(s.ids[slot], RowPtr(s, slot), s.steps[slot]);
    }
  }
}

void EmbeddingTable::InsertWithState(uint64_t id, const float* row, uint32_t step) {
  Stripe& s = StripeOf(id);
  absl::MutexLock lock(&s.mu);
  const uint32_t slot = FindOrCreate(s, id);
  std::memcpy(RowPtr(s, slot), row, stride_ * sizeof(float));
  s.steps[slot] = step;
}

uint64_t EmbeddingTable::bytes() const {
  uint64_t total = 0;
  for (uint32_t i = 0; i <= stripe_mask_; ++i) {
    const Stripe& s = stripes_[i];
    absl::MutexLock lock(&s.mu);
    total += s.blocks.size() * static_cast<uint64_t>(rows_per_block_) * stride_ * sizeof(float);
    total += s.slots.bytes();
    total += s.steps.capacity() * sizeof(uint32_t) + s.ids.capacity() * sizeof(uint64_t);
  }
  return total;
}

}  // namespace psrec
