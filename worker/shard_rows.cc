#include "worker/shard_rows.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace psrec {

absl::StatusOr<uint32_t> IdTable::Intern(uint64_t id) {
  auto [it, added] = index_.try_emplace(id, static_cast<uint32_t>(ids_.size()));
  if (added) {
    if (ids_.size() > std::numeric_limits<uint32_t>::max()) {
      index_.erase(it);
      return absl::ResourceExhaustedError(
          absl::StrCat("more than 2^32 distinct ids in one worker's data (id ", id, ")"));
    }
    ids_.push_back(id);
  }
  return it->second;
}

void ShardRows::FinishRecency(const RecencyOptions& o) {
  if (o.enabled() && timestamps_size_ == size_) {
    weights_ = RecencyWeights(
        size_, [this](size_t i) { return (*this)[i].user; },
        [this](size_t i) {
          return timestamp_blocks_[i >> kBlockShift][i & (kBlockRows - 1)];
        },
        o);
  }
  timestamp_blocks_ = std::vector<std::unique_ptr<int64_t[]>>();
  timestamps_size_ = 0;
}

}  // namespace psrec
