// psrec's own synthetic interaction generator: planted low-rank user/item
// factors and power-law item popularity. It is the embedded default for
// `make run` and the data of tests and benchmarks that must not depend on
// MovieLens. Deterministic for a given options struct.
#ifndef PSREC_COMMON_SYNTHETIC_H_
#define PSREC_COMMON_SYNTHETIC_H_

#include <cstdint>
#include <vector>

#include "common/dataset.h"

namespace psrec {

struct SyntheticOptions {
  uint64_t num_users = 2000;
  uint64_t num_items = 1000;
  uint64_t interactions_per_user = 40;  // mean; each user gets at least 5
  int rank = 8;                         // planted factor rank
  double popularity_exponent = 0.8;     // Zipf-like exponent of item popularity
  double noise = 0.3;                   // std of rating noise
  bool implicit = true;                 // ratings 1.0 (implicit) or in [1, 5]
  uint64_t seed = 42;
};

// Train/test data in the same shape as real files. For implicit data, `test`
// holds each user's last interaction and `ranking` the NCF-style cases
// (`num_negatives` sampled items the user never interacted with); for explicit
// data, `test` is a random 20% and `ranking` is empty.
struct SyntheticData {
  std::vector<Interaction> train;
  std::vector<Interaction> test;
  std::vector<RankingCase> ranking;
};

SyntheticData GenerateSynthetic(const SyntheticOptions& options,
                                int num_negatives = 99);

}  // namespace psrec

#endif  // PSREC_COMMON_SYNTHETIC_H_
