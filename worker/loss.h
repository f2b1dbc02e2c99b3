// Training losses over a batch of scores. All return the mean loss and the
// gradient of that mean with respect to each score.
//
//   logistic: softplus(s) - y s per example (labels 0/1), sampled negatives
//             are examples with label 0.
//   bpr:      -log sigmoid(s_pos - s_neg) per pair (Rendle et al. 2009). A
//             batch of P pairs has 2P rows: rows [0, P) are the positives,
//             row P + k is the sampled negative of row k (same user).
//   squared:  (s - y)^2 per example.
#ifndef PSREC_WORKER_LOSS_H_
#define PSREC_WORKER_LOSS_H_

#include <string>

#include "absl/status/statusor.h"

namespace psrec {

enum class Loss { kLogistic, kBpr, kSquared };

// InvalidArgument naming --loss and the valid values. An empty name is the
// task's default: logistic for ranking, squared for rating.
absl::StatusOr<Loss> ParseLoss(const std::string& name, const std::string& task);
const char* LossName(Loss loss);

// `n` rows of scores and labels (labels unused by bpr; n must be even for
// bpr). Writes d(mean loss)/d score into `d_scores`. With `weights` (one per
// row; bpr reads those of rows [0, P)) the loss is the mean of weight x
// each example's loss.
double LossAndGradient(Loss loss, const float* scores, const float* labels, int n,
                       float* d_scores, const float* weights = nullptr);

}  // namespace psrec

#endif  // PSREC_WORKER_LOSS_H_
