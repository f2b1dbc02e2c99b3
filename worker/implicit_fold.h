// A saved model with implicit feedback keeps the layout of one without it:
// when training ends, each user's row gets its implicit term added (the
// fold), the table "implicit" is left out, and model.json says
// implicit_folded. `psrec eval`, `recommend` and `export` then need neither
// y nor the training file, and score exactly as the run evaluated (the fold
// adds the same floats in the same order as training-time evaluation,
// worker/implicit_feedback.h). The cost: a folded model cannot learn from
// new ratings of a user without retraining.
#ifndef PSREC_WORKER_IMPLICIT_FOLD_H_
#define PSREC_WORKER_IMPLICIT_FOLD_H_

#include <string>

#include "absl/status/status.h"
#include "worker/implicit_feedback.h"

namespace psrec {

// Rewrites the model directory `dir` (model.json and every shard file, each
// atomically) with the implicit term folded into the user rows; `implicit`
// must be N(u) of the run's training part. Does nothing for a model without
// implicit feedback. Errors name the file at fault; a fold that stops half
// way leaves shard files that the loader refuses as mixed runs.
absl::Status FoldImplicitFeedback(const std::string& dir, const ImplicitFeedback& implicit);

}  // namespace psrec

#endif  // PSREC_WORKER_IMPLICIT_FOLD_H_
