// How a worker holds its training interactions: 12 bytes each (user and item
// as 32-bit indices into id tables, the rating as a float), in fixed-size
// blocks, so that memory is the rows themselves with no growth slack and no
// per-row allocation, and a shard is never copied to be trained.
#ifndef PSREC_WORKER_SHARD_ROWS_H_
#define PSREC_WORKER_SHARD_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/recency.h"

namespace psrec {

struct ShardRow {
  uint32_t user = 0;  // index into the user id table
  uint32_t item = 0;  // index into the item id table
  float rating = 1.0f;
};

// Raw 64-bit ids to dense 32-bit indices, in order of first appearance.
class IdTable {
 public:
  // The index of `id`, adding it if new; ResourceExhausted past 2^32 ids.
  absl::StatusOr<uint32_t> Intern(uint64_t id);
  uint64_t id(uint32_t index) const { return ids_[index]; }
  const std::vector<uint64_t>& ids() const { return ids_; }
  size_t size() const { return ids_.size(); }
  // Frees the id -> index map once nothing more will be interned (ids stay).
  void Seal() { index_ = absl::flat_hash_map<uint64_t, uint32_t>(); }

 private:
  absl::flat_hash_map<uint64_t, uint32_t> index_;
  std::vector<uint64_t> ids_;
};

// Rows appended in blocks of kBlockRows: growing never copies what is held.
class ShardRows {
 public:
  static constexpr size_t kBlockShift = 16;
  static constexpr size_t kBlockRows = size_t{1} << kBlockShift;

  void push_back(const ShardRow& row) {
    if ((size_ & (kBlockRows - 1)) == 0) {
      blocks_.push_back(std::make_unique<ShardRow[]>(kBlockRows));
    }
    blocks_.back()[size_ & (kBlockRows - 1)] = row;
    ++size_;
  }
  const ShardRow& operator[](size_t i) const {
    return blocks_[i >> kBlockShift][i & (kBlockRows - 1)];
  }
  size_t size() const { return size_; }

  // Recency weighting (common/recency.h): while loading, the timestamp of
  // each row pushed, in blocks like the rows; then FinishRecency turns them
  // into per-row weights (4 bytes a row, only when weighting is on) and
  // frees them.
  void push_timestamp(int64_t t) {
    if ((timestamps_size_ & (kBlockRows - 1)) == 0) {
      timestamp_blocks_.push_back(std::make_unique<int64_t[]>(kBlockRows));
    }
    timestamp_blocks_.back()[timestamps_size_ & (kBlockRows - 1)] = t;
    ++timestamps_size_;
  }
  void FinishRecency(const RecencyOptions& o);
  float weight(size_t i) const { return weights_.empty() ? 1.0f : weights_[i]; }

 private:
  std::vector<std::unique_ptr<ShardRow[]>> blocks_;
  size_t size_ = 0;
  std::vector<std::unique_ptr<int64_t[]>> timestamp_blocks_;
  size_t timestamps_size_ = 0;
  std::vector<float> weights_;  // empty: every row weighs 1
};

// One data shard as the trainer and the negative sampler read it: rows with
// the id tables that turn their indices back into raw ids. Cheap to copy;
// valid while the DataShards it came from lives.
class ShardView {
 public:
  ShardView(const ShardRows* rows, const IdTable* users, const IdTable* items)
      : rows_(rows), users_(users), items_(items) {}
  size_t size() const { return rows_->size(); }
  uint64_t user(size_t i) const { return users_->id((*rows_)[i].user); }
  uint64_t item(size_t i) const { return items_->id((*rows_)[i].item); }
  float rating(size_t i) const { return (*rows_)[i].rating; }
  // The row's recency weight (1 without recency weighting).
  float weight(size_t i) const { return rows_->weight(i); }
  const ShardRow& row(size_t i) const { return (*rows_)[i]; }
  const IdTable& users() const { return *users_; }
  const IdTable& items() const { return *items_; }

 private:
  const ShardRows* rows_;
  const IdTable* users_;
  const IdTable* items_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_SHARD_ROWS_H_
