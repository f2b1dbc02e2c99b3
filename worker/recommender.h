// Top-K recommendation for one user at a time: scores every candidate item
// with the model (Model::Score over read-only batches, so any model type
// works and nothing is created), skips excluded items, keeps the best K.
#ifndef PSREC_WORKER_RECOMMENDER_H_
#define PSREC_WORKER_RECOMMENDER_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "worker/batch_assembler.h"
#include "worker/models.h"
#include "worker/ps_client.h"

namespace psrec {

struct ScoredItem {
  uint64_t item = 0;
  float score = 0;  // logit for ranking models, predicted rating for rating models
};

class Recommender {
 public:
  // `model` and `ps` must outlive the recommender. `candidates`: the items to
  // rank (unique ids).
  Recommender(const Model* model, PsClient* ps, std::vector<uint64_t> candidates);

  // The `k` best candidates for `user` not in `exclude`, best first; equal
  // scores rank the smaller id first, so the order is deterministic. Fewer
  // than k when fewer candidates remain. A NaN score ranks last.
  absl::StatusOr<std::vector<ScoredItem>> TopK(uint64_t user, size_t k,
                                               const absl::flat_hash_set<uint64_t>& exclude);

 private:
  static constexpr size_t kBatch = 4096;

  BatchAssembler assembler_;
  const Model* model_;
  std::vector<uint64_t> candidates_;
  // Reused across calls.
  std::vector<uint64_t> items_, users_;
  std::vector<float> scores_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_RECOMMENDER_H_
