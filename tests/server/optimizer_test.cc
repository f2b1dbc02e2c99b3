#include "server/optimizer.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/model_spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/embedding_table.h"

namespace psrec {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::unique_ptr<Optimizer> Make(const std::string& name, float lr) {
  OptimizerOptions o;
  o.name = name;
  o.lr = lr;
  auto opt = MakeOptimizer(o);
  EXPECT_TRUE(opt.ok()) << opt.status();
  return opt.ok() ? std::move(*opt) : nullptr;
}

// Textbook Adam in double precision, one parameter.
struct RefAdam {
  double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr;
  double m = 0, v = 0;
  explicit RefAdam(double lr) : lr(lr) {}
  double Step(double w, double g, int t) {
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const double m_hat = m / (1 - std::pow(b1, t));
    const double v_hat = v / (1 - std::pow(b2, t));
    return w - lr * m_hat / (std::sqrt(v_hat) + eps);
  }
};

TEST(OptimizerTest, StateFloatsAndLr) {
  EXPECT_EQ(Make("sgd", 0.5f)->state_floats(), 0);
  EXPECT_EQ(Make("adagrad", 0.5f)->state_floats(), 1);
  EXPECT_EQ(Make("adam", 0.5f)->state_floats(), 2);
  EXPECT_EQ(Make("adam", 0.25f)->lr(), 0.25f);
}

TEST(OptimizerTest, SgdWithL2TwoSteps) {
  auto sgd = Make("sgd", 0.1f);
  float w[3] = {1.0f, -2.0f, 0.5f};
  const float g[3] = {0.5f, 0.25f, -1.0f};
  sgd->Apply(w, nullptr, g, 3, 0.1f, 0.1f, 1);
  // w - lr * (g + l2 w): 1 - 0.1*0.6, -2 - 0.1*0.05, 0.5 - 0.1*(-0.95).
  EXPECT_NEAR(w[0], 0.94f, 1e-6);
  EXPECT_NEAR(w[1], -2.005f, 1e-6);
  EXPECT_NEAR(w[2], 0.595f, 1e-6);
  sgd->Apply(w, nullptr, g, 3, 0.1f, 0.1f, 2);
  // 0.94 - 0.1*(0.5 + 0.094) = 0.8806; -2.005 - 0.1*(0.25 - 0.2005) = -2.00995;
  // 0.595 - 0.1*(-1 + 0.0595) = 0.68905.
  EXPECT_NEAR(w[0], 0.8806f, 1e-6);
  EXPECT_NEAR(w[1], -2.00995f, 1e-6);
  EXPECT_NEAR(w[2], 0.68905f, 1e-6);
}

TEST(OptimizerTest, AdagradTwoSteps) {
  auto adagrad = Make("adagrad", 0.1f);
  float w[2] = {1.0f, -0.5f};
  float acc[2] = {0.0f, 0.0f};
  const float g1[2] = {0.3f, -0.4f};
  adagrad->Apply(w, acc, g1, 2, 0.1f, 0.0f, 1);
  // acc = g^2; w -= lr * g / |g| (eps = 1e-8 is negligible).
  EXPECT_NEAR(acc[0], 0.09f, 1e-7);
  EXPECT_NEAR(acc[1], 0.16f, 1e-7);
  EXPECT_NEAR(w[0], 0.9f, 1e-6);
  EXPECT_NEAR(w[1], -0.4f, 1e-6);
  const float g2[2] = {0.4f, 0.3f};
  adagrad->Apply(w, acc, g2, 2, 0.1f, 0.0f, 2);
  // acc = 0.09 + 0.16 = 0.16 + 0.09 = 0.25, sqrt = 0.5.
  // w0 = 0.9 - 0.1 * 0.4 / 0.5 = 0.82; w1 = -0.4 - 0.1 * 0.3 / 0.5 = -0.46.
  EXPECT_NEAR(acc[0], 0.25f, 1e-7);
  EXPECT_NEAR(acc[1], 0.25f, 1e-7);
  EXPECT_NEAR(w[0], 0.82f, 1e-6);
  EXPECT_NEAR(w[1], -0.46f, 1e-6);
}

TEST(OptimizerTest, AdagradAddsL2ToTheGradient) {
  auto adagrad = Make("adagrad", 0.5f);
  float w[1] = {2.0f};
  float acc[1] = {0.0f};
  const float g[1] = {0.0f};
  adagrad->Apply(w, acc, g, 1, 0.5f, 0.5f, 1);
  // g' = 0 + 0.5 * 2 = 1; acc = 1; w = 2 - 0.5 * 1 / 1 = 1.5.
  EXPECT_NEAR(acc[0], 1.0f, 1e-7);
  EXPECT_NEAR(w[0], 1.5f, 1e-6);
}

// L2 applies to parameters [l2_begin, n) only: the leading biases are exempt.
TEST(OptimizerTest, L2SkipsParametersBeforeL2Begin) {
  for (const char* name : {"sgd", "adagrad", "adam"}) {
    SCOPED_TRACE(name);
    auto opt = Make(name, 0.1f);
    float with_prefix[3] = {2.0f, 2.0f, 2.0f};
    float no_l2[3] = {2.0f, 2.0f, 2.0f};
    float full_l2[3] = {2.0f, 2.0f, 2.0f};
    std::vector<float> s1(6, 0.0f), s2(6, 0.0f), s3(6, 0.0f);
    const float g[3] = {0.5f, 0.5f, 0.5f};
    opt->Apply(with_prefix, s1.data(), g, 3, 0.1f, 0.5f, 1, /*l2_begin=*/1);
    opt->Apply(no_l2, s2.data(), g, 3, 0.1f, 0.0f, 1, 0);
    opt->Apply(full_l2, s3.data(), g, 3, 0.1f, 0.5f, 1, 0);
    // Parameter 0 sees no L2, 1 and 2 do.
    EXPECT_EQ(with_prefix[0], no_l2[0]);
    EXPECT_EQ(with_prefix[1], full_l2[1]);
    EXPECT_EQ(with_prefix[2], full_l2[2]);
  }
  // SGD by hand: bias 2 - 0.1 * 0.5 = 1.95; weight 2 - 0.1 * (0.5 + 1) = 1.85.
  auto sgd = Make("sgd", 0.1f);
  float w[2] = {2.0f, 2.0f};
  const float g[2] = {0.5f, 0.5f};
  sgd->Apply(w, nullptr, g, 2, 0.1f, 0.5f, 1, 1);
  EXPECT_NEAR(w[0], 1.95f, 1e-6);
  EXPECT_NEAR(w[1], 1.85f, 1e-6);
}

TEST(OptimizerTest, AdamFirstStepMovesByLrTimesSign) {
  auto adam = Make("adam", 0.01f);
  float w[3] = {0.5f, 0.5f, 0.5f};
  float state[6] = {};
  const float g[3] = {2.0f, -0.001f, 0.0f};
  adam->Apply(w, state, g, 3, 0.01f, 0.0f, 1);
  // Bias-corrected m_hat = g and v_hat = g^2 on step 1, so the step is
  // lr * g / (|g| + eps); a zero gradient does not move the parameter.
  EXPECT_NEAR(w[0], 0.49f, 1e-6);
  EXPECT_NEAR(w[1], 0.51f, 1e-6);
  EXPECT_EQ(w[2], 0.5f);
  // State layout [m x n][v x n]: m = 0.1 g, v = 0.001 g^2.
  EXPECT_NEAR(state[0], 0.2f, 1e-6);
  EXPECT_NEAR(state[1], -0.0001f, 1e-9);
  EXPECT_EQ(state[2], 0.0f);
  EXPECT_NEAR(state[3], 0.004f, 1e-7);
  EXPECT_NEAR(state[4], 1e-9f, 1e-12);
  EXPECT_EQ(state[5], 0.0f);
}

TEST(OptimizerTest, AdamTwoStepsMatchesTextbook) {
  auto adam = Make("adam", 0.01f);
  const int n = 4;
  float w[n] = {0.3f, -0.7f, 1.2f, 0.0f};
  float state[2 * n] = {};
  const float g1[n] = {0.5f, -0.2f, 0.05f, 1.0f};
  const float g2[n] = {0.1f, 0.3f, -0.05f, 1.0f};
  std::vector<RefAdam> ref(n, RefAdam(0.01));
  std::vector<double> rw(w, w + n);
  adam->Apply(w, state, g1, n, 0.01f, 0.0f, 1);
  for (int i = 0; i < n; ++i) {
    rw[i] = ref[i].Step(rw[i], g1[i], 1);
    EXPECT_NEAR(w[i], rw[i], 1e-6) << "step 1, i=" << i;
  }
  adam->Apply(w, state, g2, n, 0.01f, 0.0f, 2);
  for (int i = 0; i < n; ++i) {
    rw[i] = ref[i].Step(rw[i], g2[i], 2);
    EXPECT_NEAR(w[i], rw[i], 1e-6) << "step 2, i=" << i;
  }
  // A hand check of element 0's second step:
  //   m = 0.9*0.05 + 0.1*0.1 = 0.055,      m_hat = 0.055 / 0.19 = 0.289474
  //   v = 0.999*0.00025 + 0.001*0.01 = 0.00025975, v_hat = v / 0.001999
  //     = 0.129940, sqrt = 0.360472;       step = 0.01 * 0.803040 = 0.0080304
  //   w = 0.3 - 0.01 - 0.0080304 = 0.2819696
  EXPECT_NEAR(w[0], 0.2819696f, 2e-6);
  // Constant gradient: m_hat = g and v_hat = g^2 every step, so w moves by
  // exactly lr per step.
  EXPECT_NEAR(w[3], -0.02f, 1e-6);
}

TEST(OptimizerTest, AdamAddsL2ToTheGradient) {
  auto adam = Make("adam", 0.1f);
  float w[1] = {1.0f};
  float state[2] = {};
  const float g[1] = {-0.5f};
  adam->Apply(w, state, g, 1, 0.1f, 0.2f, 1);
  // g' = -0.5 + 0.2 * 1 = -0.3; m = -0.03, v = 0.00009; first step moves +lr.
  EXPECT_NEAR(state[0], -0.03f, 1e-7);
  EXPECT_NEAR(state[1], 0.00009f, 1e-8);
  EXPECT_NEAR(w[0], 1.1f, 1e-6);
}

TEST(OptimizerTest, AdamRespectsCustomBetas) {
  OptimizerOptions o;
  o.name = "adam";
  o.lr = 0.01f;
  o.beta1 = 0.5f;
  o.beta2 = 0.75f;
  o.epsilon = 1e-8f;
  auto adam = MakeOptimizer(o);
  ASSERT_TRUE(adam.ok()) << adam.status();
  float w[1] = {0.0f};
  float state[2] = {};
  const float g1[1] = {1.0f}, g2[1] = {-1.0f};
  (*adam)->Apply(w, state, g1, 1, 0.01f, 0.0f, 1);
  (*adam)->Apply(w, state, g2, 1, 0.01f, 0.0f, 2);
  // Step 1: m = 0.5, v = 0.25, w = -0.01.
  // Step 2: m = 0.5*0.5 - 0.5*1 = -0.25, m_hat = -0.25 / 0.75 = -1/3;
  //         v = 0.75*0.25 + 0.25*1 = 0.4375, v_hat = 0.4375 / 0.4375 = 1;
  //         w = -0.01 + 0.01 / 3.
  EXPECT_NEAR(state[0], -0.25f, 1e-7);
  EXPECT_NEAR(state[1], 0.4375f, 1e-7);
  EXPECT_NEAR(w[0], -0.01f + 0.01f / 3, 1e-7);
}

// Lazy Adam: each row's own update count drives its bias correction.
TEST(OptimizerTest, AdamBiasCorrectionUsesPerRowStep) {
  auto adam = Make("adam", 0.01f);
  TableConfig c;
  c.id = kItemTable;
  c.name = "item";
  c.dim = 2;
  EmbeddingTable table(c, adam.get(), 1);
  const float a0[2] = {1.0f, 1.0f};
  const float b0[2] = {-1.0f, 2.0f};
  table.Insert(1, a0);
  table.Insert(2, b0);
  const uint64_t a = 1, b = 2;
  const float ga[2] = {0.5f, -0.5f};
  const float gb[2] = {0.25f, -3.0f};
  table.Push({&a, 1}, ga, 0.01f);
  table.Push({&a, 1}, ga, 0.01f);
  table.Push({&b, 1}, gb, 0.01f);

  float out[2];
  table.Pull({&b, 1}, out, nullptr);
  // B's first update: a first Adam step moves each parameter by lr against
  // the sign of its gradient. With the global step (3) it would move by
  // lr * 0.369 / 0.5777 = 0.0064 instead.
  EXPECT_NEAR(out[0], -1.01f, 1e-6);
  EXPECT_NEAR(out[1], 2.01f, 1e-6);
  table.Pull({&a, 1}, out, nullptr);
  // A got the same gradient twice: m_hat = g, v_hat = g^2 on both steps.
  EXPECT_NEAR(out[0], 0.98f, 1e-6);
  EXPECT_NEAR(out[1], 1.02f, 1e-6);

  // Pushing A and B together keeps their counts separate: B's second step
  // against A's third, compared with the textbook formula.
  const uint64_t both[2] = {1, 2};
  const float g[4] = {0.5f, -0.5f, -0.25f, 1.0f};
  table.Push({both, 2}, g, 0.01f);
  RefAdam rb0(0.01), rb1(0.01);
  double b_ref0 = rb0.Step(-1.0, 0.25, 1);
  double b_ref1 = rb1.Step(2.0, -3.0, 1);
  b_ref0 = rb0.Step(b_ref0, -0.25, 2);
  b_ref1 = rb1.Step(b_ref1, 1.0, 2);
  table.Pull({&b, 1}, out, nullptr);
  EXPECT_NEAR(out[0], b_ref0, 1e-6);
  EXPECT_NEAR(out[1], b_ref1, 1e-6);
}

TEST(OptimizerTest, InsertRestartsRowState) {
  auto adam = Make("adam", 0.01f);
  TableConfig c;
  c.id = kUserTable;
  c.name = "user";
  c.dim = 1;
  EmbeddingTable table(c, adam.get(), 1);
  const uint64_t key = 9;
  const float g[1] = {3.0f};
  table.Push({&key, 1}, g, 0.01f);
  table.Push({&key, 1}, g, 0.01f);
  const float fresh[1] = {5.0f};
  table.Insert(key, fresh);
  const float g2[1] = {-0.1f};
  table.Push({&key, 1}, g2, 0.01f);
  float out[1];
  table.Pull({&key, 1}, out, nullptr);
  // Fresh state and step 1 again: the first Adam step, +lr.
  EXPECT_NEAR(out[0], 5.01f, 1e-6);
}

TEST(MakeOptimizerTest, RejectsUnknownNameListingValidOnes) {
  OptimizerOptions o;
  o.name = "rmsprop";
  o.lr = 0.1f;
  auto opt = MakeOptimizer(o);
  ASSERT_FALSE(opt.ok());
  EXPECT_EQ(opt.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(opt.status().message(),
              AllOf(HasSubstr("rmsprop"), HasSubstr("sgd"), HasSubstr("adagrad"),
                    HasSubstr("adam")));
}

TEST(MakeOptimizerTest, RejectsNonPositiveLr) {
  for (float lr : {0.0f, -0.1f, std::numeric_limits<float>::quiet_NaN(),
                   std::numeric_limits<float>::infinity()}) {
    for (const char* name : {"sgd", "adagrad", "adam"}) {
      OptimizerOptions o;
      o.name = name;
      o.lr = lr;
      auto opt = MakeOptimizer(o);
      EXPECT_EQ(opt.status().code(), absl::StatusCode::kInvalidArgument)
          << name << " lr=" << lr;
    }
  }
}

TEST(MakeOptimizerTest, RejectsAdamBetasOutsideUnitInterval) {
  for (auto [b1, b2] : {std::pair{1.0f, 0.999f}, std::pair{0.9f, 1.0f},
                        std::pair{-0.1f, 0.999f}}) {
    OptimizerOptions o;
    o.name = "adam";
    o.lr = 0.1f;
    o.beta1 = b1;
    o.beta2 = b2;
    EXPECT_EQ(MakeOptimizer(o).status().code(), absl::StatusCode::kInvalidArgument)
        << b1 << " " << b2;
  }
}

TEST(MakeOptimizerTest, AcceptsKnownNames) {
  for (const char* name : {"sgd", "adagrad", "adam"}) {
    OptimizerOptions o;
    o.name = name;
    o.lr = 1e-4f;
    auto opt = MakeOptimizer(o);
    ASSERT_TRUE(opt.ok()) << name << ": " << opt.status();
    EXPECT_EQ((*opt)->lr(), 1e-4f);
  }
}

}  // namespace
}  // namespace psrec
