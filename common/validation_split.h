// Carves a validation set out of the training interactions, so that a run can
// pick its best epoch and stop early without looking at the test set.
//
// ranking: each user's latest training interaction (largest timestamp; among
//   equal timestamps the one later in the file) is held out, with
//   `negatives` items the user never interacted with anywhere in the
//   training data, sampled uniformly without repeats (NCF leave-one-out, one
//   step earlier than the test split). Users with fewer than 2 interactions
//   keep everything. Other lines of the held-out (user, item) pair leave
//   training too, so the answer is never trained on.
// rating: round(fraction x n) interactions chosen uniformly at random.
//
// Deterministic: the same data, options and seed give the same split on
// every process, whatever the order in which it asks.
#ifndef PSREC_COMMON_VALIDATION_SPLIT_H_
#define PSREC_COMMON_VALIDATION_SPLIT_H_

#include <cstdint>
#include <vector>

#include "common/dataset.h"

namespace psrec {

struct ValidationSplitOptions {
  bool ranking = true;      // task: ranking (leave-one-out) or rating (fraction)
  double fraction = 0.05;   // rating: share of interactions held out, in [0, 1)
  uint32_t negatives = 99;  // ranking: sampled negatives per held-out interaction
  uint64_t seed = 42;
};

struct ValidationSplit {
  std::vector<Interaction> train;       // what is trained on, in file order
  std::vector<Interaction> validation;  // held out, in file order
  // ranking: one case per held-out interaction (same order as `validation`).
  std::vector<RankingCase> cases;
};

ValidationSplit SplitValidation(std::vector<Interaction> data,
                                const ValidationSplitOptions& options);

}  // namespace psrec

#endif  // PSREC_COMMON_VALIDATION_SPLIT_H_
