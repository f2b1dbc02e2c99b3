#include "common/dataset.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace psrec {

DatasetFacts ComputeFacts(const std::vector<Interaction>& data) {
  DatasetFacts facts;
  facts.num_interactions = data.size();
  if (data.empty()) return facts;

  absl::flat_hash_set<uint64_t> users;
  absl::flat_hash_set<uint64_t> items;
  // Summed in double: a float sum of millions of ratings drifts visibly.
  double sum = 0.0;
  float lo = data.front().rating;
  float hi = data.front().rating;
  for (const Interaction& row : data) {
    users.insert(row.user);
    items.insert(row.item);
    sum += row.rating;
    lo = std::min(lo, row.rating);
    hi = std::max(hi, row.rating);
  }
  facts.num_users = users.size();
  facts.num_items = items.size();
  facts.global_mean = sum / static_cast<double>(data.size());
  facts.min_rating = lo;
  facts.max_rating = hi;
  facts.item_ids.assign(items.begin(), items.end());
  std::sort(facts.item_ids.begin(), facts.item_ids.end());
  return facts;
}

}  // namespace psrec
