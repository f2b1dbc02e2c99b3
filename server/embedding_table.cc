#include "server/embedding_table.h"

#include <cstring>

#include "common/hash.h"

namespace psrec {
namespace {

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

EmbeddingTable::Stripe& EmbeddingTable::StripeOf(uint64_t id) const {
  // High bits: the low bits of Mix64 also pick the map bucket.
  return stripes_[(Mix64(id) >> 40) & stripe_mask_];
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
  auto [it, inserted] = s.slots.try_emplace(id, static_cast<uint32_t>(s.ids.size()));
  if (!inserted) return it->second;
  uint32_t slot = it->second;
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

void EmbeddingTable::Pull(absl::Span<const uint64_t> keys, float* out, uint8_t* found) {
  const size_t dim = config_.dim;
  for (size_t i = 0; i < keys.size(); ++i) {
    Stripe& s = StripeOf(keys[i]);
    absl::MutexLock lock(&s.mu);
    float* dst = out + i * dim;
    if (found != nullptr) {
      auto it = s.slots.find(keys[i]);
      found[i] = it != s.slots.end();
      if (found[i]) {
        std::memcpy(dst, RowPtr(s, it->second), dim * sizeof(float));
      } else {
        std::memset(dst, 0, dim * sizeof(float));
      }
    } else {
      std::memcpy(dst, RowPtr(s, FindOrCreate(s, keys[i])), dim * sizeof(float));
    }
  }
}

void EmbeddingTable::Push(absl::Span<const uint64_t> keys, const float* grads, float lr) {
  const size_t dim = config_.dim;
  const float table_lr = lr * config_.lr_scale;
  for (size_t i = 0; i < keys.size(); ++i) {
    Stripe& s = StripeOf(keys[i]);
    absl::MutexLock lock(&s.mu);
    uint32_t slot = FindOrCreate(s, keys[i]);
    float* row = RowPtr(s, slot);
    uint32_t step = ++s.steps[slot];
    optimizer_->Apply(row, row + dim, grads + i * dim, static_cast<int>(dim), table_lr,
                      config_.l2, step, static_cast<int>(config_.zero_prefix));
  }
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

void EmbeddingTable::ForEach(const std::function<void(uint64_t, const float*)>& fn) const {
  for (uint32_t i = 0; i <= stripe_mask_; ++i) {
    const Stripe& s = stripes_[i];
    absl::MutexLock lock(&s.mu);
    for (uint32_t slot = 0; slot < s.ids.size(); ++slot) fn(s.ids[slot], RowPtr(s, slot));
  }
}

uint64_t EmbeddingTable::bytes() const {
  uint64_t total = 0;
  for (uint32_t i = 0; i <= stripe_mask_; ++i) {
    const Stripe& s = stripes_[i];
    absl::MutexLock lock(&s.mu);
    total += s.blocks.size() * static_cast<uint64_t>(rows_per_block_) * stride_ * sizeof(float);
    total += s.slots.capacity() * (sizeof(uint64_t) + sizeof(uint32_t) + 1);
    total += s.steps.capacity() * sizeof(uint32_t) + s.ids.capacity() * sizeof(uint64_t);
  }
  return total;
}

}  // namespace psrec
