// Evaluation metrics, exactly as ../shared/eval.md fixes them.
#ifndef PSREC_COMMON_METRICS_H_
#define PSREC_COMMON_METRICS_H_

#include <cstdint>

#include "absl/types/span.h"

namespace psrec {

// Rank of the held-out item among its negatives: the number of negatives whose
// score is >= the target's. Ties count against the model, so a constant model
// ranks last; a NaN target score ranks last too.
int RankOfTarget(float target_score, absl::Span<const float> negative_scores);

// Leave-one-out HR@K and NDCG@K, accumulated one user at a time.
class RankingAccumulator {
 public:
  explicit RankingAccumulator(int k = 10) : k_(k) {}
  void AddRank(int rank);
  double hit_rate() const { return users_ ? hits_ / users_ : 0.0; }
  double ndcg() const { return users_ ? ndcg_sum_ / users_ : 0.0; }
  uint64_t users() const { return static_cast<uint64_t>(users_); }

 private:
  int k_;
  double users_ = 0, hits_ = 0, ndcg_sum_ = 0;
};

// RMSE and MAE of predictions already clipped by the caller.
class RatingAccumulator {
 public:
  void Add(double prediction, double truth);
  double rmse() const;
  double mae() const;
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
  double sq_sum_ = 0, abs_sum_ = 0;
};

}  // namespace psrec

#endif  // PSREC_COMMON_METRICS_H_
