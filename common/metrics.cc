#include "common/metrics.h"

#include <cmath>

namespace psrec {

int RankOfTarget(float target_score, absl::Span<const float> negative_scores) {
  if (std::isnan(target_score)) return static_cast<int>(negative_scores.size());
  int rank = 0;
  for (float s : negative_scores) rank += (s >= target_score || std::isnan(s)) ? 1 : 0;
  return rank;
}

void RankingAccumulator::AddRank(int rank) {
  users_ += 1;
  if (rank < k_) {
    hits_ += 1;
    ndcg_sum_ += 1.0 / std::log2(rank + 2.0);
  }
}

void RatingAccumulator::Add(double prediction, double truth) {
  double e = prediction - truth;
  ++count_;
  sq_sum_ += e * e;
  abs_sum_ += std::fabs(e);
}

double RatingAccumulator::rmse() const { return count_ ? std::sqrt(sq_sum_ / count_) : 0.0; }
double RatingAccumulator::mae() const { return count_ ? abs_sum_ / count_ : 0.0; }

}  // namespace psrec
