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
  if (o.enabled() && timestamps_.size() == size_) {
    std::vector<uint32_t> users(size_);
    for (size_t i = 0; i < size_; ++i) users[i] = (*this)[i].user;
    weights_ = RecencyWeights(users, timestamps_, o);
  }
  timestamps_ = std::vector<int64_t>();
}

}  // namespace psrec
