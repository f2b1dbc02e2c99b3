// SVD++'s implicit feedback (Koren 2008): a user is also described by which
// items they rated, not only how. The user's dot factors become
//
//   p_u + |N(u)|^-1/2 x sum_{j in N(u)} y_j
//
// with N(u) the items the user rated in the training part of the data (never
// the test file, never the validation split) and y a sparse item table
// ("implicit") on the servers like any other. The model never sees y: the
// BatchAssembler adds the term into the user rows it gathers and hands the
// user rows' gradient, scaled by |N(u)|^-1/2, to every y_j of N(u).
#ifndef PSREC_WORKER_IMPLICIT_FEEDBACK_H_
#define PSREC_WORKER_IMPLICIT_FEEDBACK_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "common/dataset.h"
#include "worker/shard_rows.h"

namespace psrec {

// N(u) of every user of the training data. Immutable once built, so any
// number of threads may read it.
class ImplicitFeedback {
 public:
  explicit ImplicitFeedback(absl::Span<const Interaction> train);
  explicit ImplicitFeedback(absl::Span<const ShardView> shards);

  // The distinct items `user` rated, ascending (the order the term is summed
  // in, so every process adds the same floats the same way); empty for a
  // user without training data.
  absl::Span<const uint64_t> Items(uint64_t user) const;
  size_t users() const { return items_.size(); }

 private:
  void SortAndDedupe();

  absl::flat_hash_map<uint64_t, std::vector<uint64_t>> items_;
};

// |N|^-1/2, 0 for an empty N: the scale of the term and of y_j's gradient.
float ImplicitNorm(size_t n);

// factors[d] += ImplicitNorm(|y_rows|) x sum_j y_rows[j][d] for d < dim.
// Training, evaluation and the fold into saved user rows all call this, so
// a saved model scores exactly as the training run evaluated it.
void AddImplicitTerm(absl::Span<const float* const> y_rows, uint32_t dim, float* factors);

}  // namespace psrec

#endif  // PSREC_WORKER_IMPLICIT_FEEDBACK_H_
