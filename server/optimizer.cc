#include "server/optimizer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace psrec {
namespace {

class SgdOptimizer : public Optimizer {
 public:
  explicit SgdOptimizer(float lr) : Optimizer(lr) {}
  int state_floats() const override { return 0; }
  void Apply(float* w, float*, const float* g, int n, float lr, float l2,
             uint32_t, int l2_begin) const override {
    SgdUpdate(w, g, n, lr, l2, l2_begin);
  }
};

class AdagradOptimizer : public Optimizer {
 public:
  AdagradOptimizer(float lr, float eps) : Optimizer(lr), eps_(eps) {}
  int state_floats() const override { return 1; }
  void Apply(float* w, float* acc, const float* g, int n, float lr, float l2,
             uint32_t, int l2_begin) const override {
    for (int i = 0; i < n; ++i) {
      float gi = g[i] + (i >= l2_begin ? l2 : 0.0f) * w[i];
      acc[i] += gi * gi;
      w[i] -= lr * gi / (std::sqrt(acc[i]) + eps_);
    }
  }

 private:
  float eps_;
};

class AdamOptimizer : public Optimizer {
 public:
  AdamOptimizer(float lr, float b1, float b2, float eps)
      : Optimizer(lr), b1_(b1), b2_(b2), eps_(eps) {}
  int state_floats() const override { return 2; }
  void Apply(float* w, float* state, const float* g, int n, float lr, float l2,
             uint32_t step, int l2_begin) const override {
    float* m = state;
    float* v = state + n;
    const float c1 = 1.0f - static_cast<float>(std::pow(b1_, step));
    const float c2 = 1.0f - static_cast<float>(std::pow(b2_, step));
    const float step_size = lr / c1;
    const float inv_sqrt_c2 = 1.0f / std::sqrt(c2);
    // Two ranges (biases without L2, then the rest) rather than a per-element
    // test: the test kept GCC from vectorizing the loop, which was a sixth of
    // a server's time training neumf. Same arithmetic, so the same bits.
    auto update = [&](int begin, int end, float l2_here) {
      for (int i = begin; i < end; ++i) {
        float gi = g[i] + l2_here * w[i];
        m[i] = b1_ * m[i] + (1.0f - b1_) * gi;
        v[i] = b2_ * v[i] + (1.0f - b2_) * gi * gi;
        w[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_c2 + eps_);
      }
    };
    const int split = std::clamp(l2_begin, 0, n);
    update(0, split, 0.0f);
    update(split, n, l2);
  }

 private:
  float b1_, b2_, eps_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const OptimizerOptions& o) {
  if (!(o.lr > 0) || !std::isfinite(o.lr)) {
    return absl::InvalidArgumentError(absl::StrFormat("--lr=%g: must be a positive number", o.lr));
  }
  if (o.name == "sgd") return std::make_unique<SgdOptimizer>(o.lr);
  if (o.name == "adagrad") return std::make_unique<AdagradOptimizer>(o.lr, o.epsilon);
  if (o.name == "adam") {
    if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1)) {
      return absl::InvalidArgumentError("adam betas must be in [0, 1)");
    }
    return std::make_unique<AdamOptimizer>(o.lr, o.beta1, o.beta2, o.epsilon);
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "--optimizer=%s: unknown optimizer; valid: sgd, adagrad, adam", o.name));
}

}  // namespace psrec
