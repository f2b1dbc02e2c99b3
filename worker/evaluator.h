// Held-out evaluation through any PsClient, read-only: evaluation never
// creates rows. Cold start: a user or item without a trained row scores as a
// zero row (for `mf`: the global mean plus the known bias; for `gmf`: the
// output bias), and the number of such test examples is reported.
#ifndef PSREC_WORKER_EVALUATOR_H_
#define PSREC_WORKER_EVALUATOR_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dataset.h"
#include "worker/batch_assembler.h"
#include "worker/models.h"
#include "worker/ps_client.h"

namespace psrec {

struct EvalResult {
  double hr_at_10 = 0, ndcg_at_10 = 0;  // ranking
  double rmse = 0, mae = 0;             // rating
  uint64_t cases = 0;                   // users (ranking) or ratings (rating)
  uint64_t cold_users = 0, cold_items = 0;  // test examples scored cold
};

class Evaluator {
 public:
  // `implicit`: N(u) of the training data, for a model with implicit
  // feedback during training (a saved model has the term folded in).
  Evaluator(const Model* model, PsClient* ps, const ImplicitFeedback* implicit = nullptr)
      : model_(model), assembler_(model, ps, implicit) {}

  // NCF leave-one-out: rank the test item among its negatives.
  absl::StatusOr<EvalResult> Ranking(const std::vector<RankingCase>& cases);
  // RMSE/MAE with predictions clipped to [min_rating, max_rating].
  absl::StatusOr<EvalResult> Rating(const std::vector<Interaction>& test, float min_rating,
                                    float max_rating);

  // Scores (user, item) pairs read-only; adds cold counts to `result`.
  absl::Status Score(absl::Span<const uint64_t> users, absl::Span<const uint64_t> items,
                     std::vector<float>* scores, EvalResult* result);

 private:
  const Model* model_;
  BatchAssembler assembler_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_EVALUATOR_H_
