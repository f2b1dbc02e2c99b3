// Server-side optimizers. Sparse semantics (stated in README): a push carries
// one summed gradient per key; only touched rows are updated (lazy), and each
// row keeps its own optimizer state and its own step count, so Adam's bias
// correction uses the number of updates *that row* has received. L2 is added
// to the gradient of touched rows only: g' = g + l2 * w (biases excepted).
#ifndef PSREC_SERVER_OPTIMIZER_H_
#define PSREC_SERVER_OPTIMIZER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace psrec {

struct OptimizerOptions {
  std::string name = "adam";  // sgd | adagrad | adam
  float lr = 0.001f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Floats of state kept per parameter (0 for SGD, 1 for Adagrad, 2 for Adam).
  virtual int state_floats() const = 0;
  // One update of n parameters. `state` holds state_floats()*n floats laid out
  // [slot0 x n][slot1 x n]; `step` is this row's update count, 1 on its first.
  // L2 applies to parameters [l2_begin, n) only (biases sit before l2_begin).
  virtual void Apply(float* param, float* state, const float* grad, int n, float lr,
                     float l2, uint32_t step, int l2_begin = 0) const = 0;
  float lr() const { return lr_; }

 protected:
  explicit Optimizer(float lr) : lr_(lr) {}
  float lr_;
};

// SGD's update, w -= lr * (g + l2 * w) with L2 on [l2_begin, n) only: the
// one definition, used by the sgd optimizer and by the single-process MF
// trainer's per-rating loop (worker/hogwild_mf.h), which inlines it. Two
// ranges rather than a per-element test, so the loops vectorize.
inline void SgdUpdate(float* w, const float* g, int n, float lr, float l2, int l2_begin) {
  const int split = l2_begin < 0 ? 0 : (l2_begin > n ? n : l2_begin);
  for (int i = 0; i < split; ++i) w[i] -= lr * (g[i] + 0.0f * w[i]);
  for (int i = split; i < n; ++i) w[i] -= lr * (g[i] + l2 * w[i]);
}

absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerOptions& options);

}  // namespace psrec

#endif  // PSREC_SERVER_OPTIMIZER_H_
