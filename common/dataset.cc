#include "common/dataset.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace psrec {

DatasetFacts ComputeFacts(const std::vector<Interaction>& data) {
  DatasetFactsBuilder builder;
  builder.Add(data);
  return builder.Finish();
}

void DatasetFactsBuilder::Add(absl::Span<const Interaction> rows) {
  for (const Interaction& row : rows) {
    if (count_++ == 0) lo_ = hi_ = row.rating;
    users_.insert(row.user);
    items_.insert(row.item);
    sum_ += row.rating;
    lo_ = std::min(lo_, row.rating);
    hi_ = std::max(hi_, row.rating);
  }
}

DatasetFacts DatasetFactsBuilder::Finish() {
  DatasetFacts facts;
  facts.num_interactions = count_;
  if (count_ > 0) {
    facts.num_users = users_.size();
    facts.num_items = items_.size();
    facts.global_mean = sum_ / static_cast<double>(count_);
    facts.min_rating = lo_;
    facts.max_rating = hi_;
    facts.item_ids.assign(items_.begin(), items_.end());
    std::sort(facts.item_ids.begin(), facts.item_ids.end());
  }
  *this = DatasetFactsBuilder();
  return facts;
}

}  // namespace psrec
