// Recency weighting of training interactions. The ranking protocol (NCF's
// leave-one-out, and most production use) asks for the item a user takes
// next, and a user's latest interactions say more about it than old ones.
// Each training interaction's loss (a positive with its sampled negatives,
// a bpr pair, a rating) is weighted by
//
//   w = 1 + weight x 2^(-k / halflife)
//
// where k counts the same user's interactions with a strictly later
// timestamp: the latest counts 1 + weight, and the extra halves every
// `halflife` interactions further back. Interactions that share a timestamp
// share a weight. The weights are then scaled to a mean of 1, so the
// learning rate and L2 keep their meaning; when every raw weight is the same
// (data without timestamps: all 0) every weight is exactly 1.
#ifndef PSREC_COMMON_RECENCY_H_
#define PSREC_COMMON_RECENCY_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace psrec {

struct RecencyOptions {
  float weight = 0;  // 0: off
  float halflife = 7;
  bool enabled() const { return weight > 0; }
};

// InvalidArgument naming --recency_weight / --recency_halflife.
absl::Status ValidateRecency(const RecencyOptions& o);

// The weights of rows 0..n-1 that hold whole users (a data shard: every
// interaction of each of its users); user_of(i) is any per-user key,
// time_of(i) the row's timestamp. Holds 8 bytes a row besides the result.
template <typename UserOf, typename TimeOf>
std::vector<float> RecencyWeights(size_t n, UserOf user_of, TimeOf time_of,
                                  const RecencyOptions& o) {
  std::vector<float> weights(n, 1.0f);
  if (!o.enabled() || n == 0) return weights;
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const auto ua = user_of(a), ub = user_of(b);
    return ua != ub ? ua < ub : time_of(a) < time_of(b);
  });
  // Per user (a run of `order`), from the latest back: rows sharing a
  // timestamp have the same number of later rows.
  double sum = 0;
  float lowest = 1 + o.weight, highest = 0;
  for (size_t end = n; end > 0;) {
    size_t begin = end - 1;
    while (begin > 0 && user_of(order[begin - 1]) == user_of(order[end - 1])) --begin;
    for (size_t tie_end = end; tie_end > begin;) {
      size_t tie_begin = tie_end - 1;
      while (tie_begin > begin && time_of(order[tie_begin - 1]) == time_of(order[tie_end - 1])) {
        --tie_begin;
      }
      const double later = static_cast<double>(end - tie_end);
      const float w = 1.0f + o.weight * static_cast<float>(std::exp2(-later / o.halflife));
      for (size_t p = tie_begin; p < tie_end; ++p) weights[order[p]] = w;
      sum += w * static_cast<double>(tie_end - tie_begin);
      lowest = std::min(lowest, w);
      highest = std::max(highest, w);
      tie_end = tie_begin;
    }
    end = begin;
  }
  if (lowest == highest) {
    std::fill(weights.begin(), weights.end(), 1.0f);
    return weights;
  }
  const double scale = static_cast<double>(n) / sum;
  for (float& w : weights) w = static_cast<float>(w * scale);
  return weights;
}

inline std::vector<float> RecencyWeights(absl::Span<const uint32_t> users,
                                         absl::Span<const int64_t> timestamps,
                                         const RecencyOptions& o) {
  return RecencyWeights(
      users.size(), [&](size_t i) { return users[i]; }, [&](size_t i) { return timestamps[i]; },
      o);
}

}  // namespace psrec

#endif  // PSREC_COMMON_RECENCY_H_
