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
// share a weight, so data without timestamps (all 0) is weighted evenly.
// The weights are then scaled to a mean of 1, so the learning rate and L2
// keep their meaning: on such data every weight is exactly 1.
#ifndef PSREC_COMMON_RECENCY_H_
#define PSREC_COMMON_RECENCY_H_

#include <cstdint>
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

// Row i's weight, for rows that hold whole users (a data shard: every
// interaction of each of its users). `users` are any per-user keys.
std::vector<float> RecencyWeights(absl::Span<const uint32_t> users,
                                  absl::Span<const int64_t> timestamps, const RecencyOptions& o);

}  // namespace psrec

#endif  // PSREC_COMMON_RECENCY_H_
