// Interaction data as psrec sees it after parsing: raw 64-bit ids, float labels.
#ifndef PSREC_COMMON_DATASET_H_
#define PSREC_COMMON_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/types/span.h"

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

// The same facts gathered as interactions stream by, holding only the
// distinct user and item ids (common/interaction_stream.h).
class DatasetFactsBuilder {
 public:
  void Add(absl::Span<const Interaction> rows);
  // The facts of everything added; the builder is left empty.
  DatasetFacts Finish();

 private:
  uint64_t count_ = 0;
  double sum_ = 0.0;  // in double: a float sum of millions of ratings drifts
  float lo_ = 0.0f;
  float hi_ = 0.0f;
  absl::flat_hash_set<uint64_t> users_;
  absl::flat_hash_set<uint64_t> items_;
};

}  // namespace psrec

#endif  // PSREC_COMMON_DATASET_H_
