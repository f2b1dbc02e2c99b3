// Interaction data as psrec sees it after parsing: raw 64-bit ids, float labels.
#ifndef PSREC_COMMON_DATASET_H_
#define PSREC_COMMON_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

namespace psrec {

// One observed interaction. `rating` is the explicit rating (or 1 for implicit data).
struct Interaction {
  uint64_t user = 0;
  uint64_t item = 0;
  float rating = 1.0f;
  int64_t timestamp = 0;  // 0 when the file has no timestamp column
};

// For the NCF leave-one-out protocol: one user's held-out item and its negatives.
struct RankingCase {
  uint64_t user = 0;
  uint64_t test_item = 0;
  std::vector<uint64_t> negatives;
};

// Facts about the training set that every process must agree on. Computed once
// (by the coordinator, from the whole training file) and shared.
struct DatasetFacts {
  uint64_t num_interactions = 0;
  uint64_t num_users = 0;
  uint64_t num_items = 0;
  double global_mean = 0.0;
  float min_rating = 0.0f;
  float max_rating = 0.0f;
  std::vector<uint64_t> item_ids;  // sorted, unique: the negative-sampling universe
};

DatasetFacts ComputeFacts(const std::vector<Interaction>& data);

}  // namespace psrec

#endif  // PSREC_COMMON_DATASET_H_
