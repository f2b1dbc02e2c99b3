#include "worker/models.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/model_spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

constexpr int kBatch = 5;
constexpr uint32_t kDim = 4;
constexpr double kEps = 1e-3;

std::vector<TableConfig> Tables(const std::string& model, uint32_t dim = kDim) {
  ModelOptions o;
  o.model = model;
  o.dim = dim;
  auto tables = TablesForModel(o);
  EXPECT_TRUE(tables.ok()) << tables.status();
  return *tables;
}

// A batch that owns its arrays.
struct Batch {
  std::vector<float> users, items, labels;
  std::vector<std::vector<float>> dense;

  BatchView View() const {
    BatchView v;
    v.size = static_cast<int>(labels.size());
    v.users = users.data();
    v.items = items.data();
    v.labels = labels.data();
    for (const auto& d : dense) v.dense.push_back(d.data());
    return v;
  }
};

Batch RandomBatch(const Model& model, bool binary_labels, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::uniform_real_distribution<float> rating(1.0f, 5.0f);
  Batch b;
  b.users.resize(kBatch * model.user_dim());
  b.items.resize(kBatch * model.item_dim());
  for (float& x : b.users) x = normal(gen);
  for (float& x : b.items) x = normal(gen);
  for (int r = 0; r < kBatch; ++r) {
    b.labels.push_back(binary_labels ? static_cast<float>(r % 2) : rating(gen));
  }
  for (const TableConfig& t : model.dense_tables()) {
    b.dense.emplace_back(t.dim);
    for (float& x : b.dense.back()) x = normal(gen);
  }
  return b;
}

// The models' definitions, in double precision, from the README formulas.
double MfPrediction(const Batch& b, int r, double mean) {
  const int d = kDim + 1;
  const float* u = &b.users[r * d];
  const float* i = &b.items[r * d];
  double p = mean + u[0] + i[0];
  for (int k = 1; k < d; ++k) p += static_cast<double>(u[k]) * i[k];
  return p;
}

double MfLoss(const Batch& b, double mean) {
  double sum = 0;
  for (int r = 0; r < kBatch; ++r) {
    const double e = MfPrediction(b, r, mean) - b.labels[r];
    sum += e * e;
  }
  return sum / kBatch;
}

double GmfLogit(const Batch& b, int r) {
  const float* u = &b.users[r * kDim];
  const float* i = &b.items[r * kDim];
  const std::vector<float>& out = b.dense[0];
  double z = out[0];
  for (uint32_t k = 0; k < kDim; ++k) z += static_cast<double>(out[k + 1]) * u[k] * i[k];
  return z;
}

double GmfLoss(const Batch& b) {
  double sum = 0;
  for (int r = 0; r < kBatch; ++r) {
    const double z = GmfLogit(b, r);
    const double y = b.labels[r];
    // -[y log s(z) + (1 - y) log(1 - s(z))] = log(1 + e^z) - y z.
    sum += std::log1p(std::exp(z)) - y * z;
  }
  return sum / kBatch;
}

// Checks every parameter of the batch with central differences. `loss` is a
// function of the (perturbed) batch; perturbations are applied in double and
// rounded into the float arrays, and the actual step used is the rounded one.
void CheckGradients(const Model& model, Batch batch,
                    const std::function<double(const Batch&)>& loss, double rel_tol,
                    double abs_tol, double eps = kEps) {
  BatchGrads grads;
  model.ForwardBackward(batch.View(), &grads);
  ASSERT_EQ(grads.users.size(), batch.users.size());
  ASSERT_EQ(grads.items.size(), batch.items.size());
  ASSERT_EQ(grads.dense.size(), batch.dense.size());
  for (size_t t = 0; t < batch.dense.size(); ++t) {
    ASSERT_EQ(grads.dense[t].size(), batch.dense[t].size());
  }

  int checked = 0;
  auto check = [&](std::vector<float>* params, const std::vector<float>& analytic,
                   const char* what) {
    for (size_t j = 0; j < params->size(); ++j) {
      const float saved = (*params)[j];
      const float plus = static_cast<float>(saved + eps);
      const float minus = static_cast<float>(saved - eps);
      (*params)[j] = plus;
      const double lp = loss(batch);
      (*params)[j] = minus;
      const double lm = loss(batch);
      (*params)[j] = saved;
      const double numeric = (lp - lm) / (static_cast<double>(plus) - minus);
      EXPECT_NEAR(analytic[j], numeric, abs_tol + rel_tol * std::fabs(numeric))
          << what << "[" << j << "]";
      ++checked;
    }
  };
  check(&batch.users, grads.users, "users");
  check(&batch.items, grads.items, "items");
  for (size_t t = 0; t < batch.dense.size(); ++t) {
    check(&batch.dense[t], grads.dense[t], "dense");
  }
  EXPECT_GT(checked, 0);
}

TEST(ModelsTest, CreateChecksTables) {
  EXPECT_FALSE(Model::Create("mf", {}, 0).ok());
  EXPECT_FALSE(Model::Create("gmf", Tables("mf"), 0).ok());  // no output table
  auto unknown = Model::Create("ncf", Tables("gmf"), 0);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ModelsTest, MfShapes) {
  auto model = Model::Create("mf", Tables("mf"), 3.5);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->user_dim(), kDim + 1);
  EXPECT_EQ((*model)->item_dim(), kDim + 1);
  EXPECT_TRUE((*model)->dense_tables().empty());
}

TEST(ModelsTest, GmfShapes) {
  auto model = Model::Create("gmf", Tables("gmf"), 0);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->user_dim(), kDim);
  EXPECT_EQ((*model)->item_dim(), kDim);
  ASSERT_EQ((*model)->dense_tables().size(), 1u);
  EXPECT_EQ((*model)->dense_tables()[0].dim, kDim + 1);
}

TEST(ModelsTest, MfScoreHandCase) {
  auto model = Model::Create("mf", Tables("mf", 2), 3.5);
  ASSERT_TRUE(model.ok());
  // Rows [bias, factors].
  const float user[3] = {0.5f, 1.0f, 2.0f};
  const float item[3] = {-0.25f, 3.0f, -1.0f};
  const float label = 4.0f;
  BatchView v;
  v.size = 1;
  v.users = user;
  v.items = item;
  v.labels = &label;
  float score = 0;
  (*model)->Score(v, &score);
  // 3.5 + 0.5 - 0.25 + (1*3 + 2*-1) = 4.75.
  EXPECT_FLOAT_EQ(score, 4.75f);
  BatchGrads g;
  // Loss (4.75 - 4)^2 = 0.5625; d/dpred = 2 * 0.75 = 1.5.
  EXPECT_NEAR((*model)->ForwardBackward(v, &g), 0.5625, 1e-6);
  EXPECT_THAT(g.users, ::testing::ElementsAre(1.5f, 4.5f, -1.5f));  // [1, q] * 1.5
  EXPECT_THAT(g.items, ::testing::ElementsAre(1.5f, 1.5f, 3.0f));   // [1, p] * 1.5
  EXPECT_TRUE(g.dense.empty());
}

TEST(ModelsTest, GmfScoreHandCase) {
  auto model = Model::Create("gmf", Tables("gmf", 2), 0);
  ASSERT_TRUE(model.ok());
  const float user[2] = {1.0f, 2.0f};
  const float item[2] = {3.0f, -1.0f};
  const float out[3] = {0.5f, 0.25f, -2.0f};  // [b, h]
  const float label = 1.0f;
  BatchView v;
  v.size = 1;
  v.users = user;
  v.items = item;
  v.labels = &label;
  v.dense = {out};
  float score = 0;
  (*model)->Score(v, &score);
  // p * q = [3, -2]; 0.5 + 0.25*3 + (-2)(-2) = 5.25.
  EXPECT_FLOAT_EQ(score, 5.25f);
}

TEST(ModelsTest, GmfLossAtZeroLogitIsLog2) {
  auto model = Model::Create("gmf", Tables("gmf", 2), 0);
  ASSERT_TRUE(model.ok());
  const float user[4] = {0, 0, 0, 0};
  const float item[4] = {1, 1, 1, 1};
  const float out[3] = {0, 1, 1};
  const float labels[2] = {1.0f, 0.0f};
  BatchView v;
  v.size = 2;
  v.users = user;
  v.items = item;
  v.labels = labels;
  v.dense = {out};
  BatchGrads g;
  // z = 0 for both: loss log 2 each; dL/dz = (sigmoid(0) - y) / B = -0.25, 0.25.
  EXPECT_NEAR((*model)->ForwardBackward(v, &g), std::log(2.0), 1e-6);
  ASSERT_EQ(g.dense.size(), 1u);
  EXPECT_NEAR(g.dense[0][0], 0.0f, 1e-7);  // bias: -0.25 + 0.25
  // dL/dp_u = dL/dz * h * q = -0.25 * [1, 1].
  EXPECT_NEAR(g.users[0], -0.25f, 1e-7);
  EXPECT_NEAR(g.users[1], -0.25f, 1e-7);
  EXPECT_NEAR(g.users[2], 0.25f, 1e-7);
  // dL/dq_i = dL/dz * h * p = 0 since p = 0.
  for (float x : g.items) EXPECT_EQ(x, 0.0f);
}

TEST(ModelsTest, GmfLossIsStableForLargeLogits) {
  auto model = Model::Create("gmf", Tables("gmf", 1), 0);
  ASSERT_TRUE(model.ok());
  const float user[2] = {10, 10};
  const float item[2] = {10, -10};
  const float out[2] = {0, 1};  // z = +100 and -100
  const float labels[2] = {0.0f, 1.0f};
  BatchView v;
  v.size = 2;
  v.users = user;
  v.items = item;
  v.labels = labels;
  v.dense = {out};
  BatchGrads g;
  // Both examples are wrong by a margin of 100: loss 100 each.
  EXPECT_NEAR((*model)->ForwardBackward(v, &g), 100.0, 1e-3);
}

TEST(ModelsTest, MfScoreMatchesDefinition) {
  auto model = Model::Create("mf", Tables("mf"), 3.5);
  ASSERT_TRUE(model.ok());
  Batch b = RandomBatch(**model, false, 1);
  std::vector<float> scores(kBatch);
  (*model)->Score(b.View(), scores.data());
  for (int r = 0; r < kBatch; ++r) EXPECT_NEAR(scores[r], MfPrediction(b, r, 3.5), 1e-5);
  BatchGrads g;
  EXPECT_NEAR((*model)->ForwardBackward(b.View(), &g), MfLoss(b, 3.5),
              1e-5 * MfLoss(b, 3.5));
}

TEST(ModelsTest, GmfScoreMatchesDefinition) {
  auto model = Model::Create("gmf", Tables("gmf"), 0);
  ASSERT_TRUE(model.ok());
  Batch b = RandomBatch(**model, true, 2);
  std::vector<float> scores(kBatch);
  (*model)->Score(b.View(), scores.data());
  for (int r = 0; r < kBatch; ++r) EXPECT_NEAR(scores[r], GmfLogit(b, r), 1e-5);
  BatchGrads g;
  EXPECT_NEAR((*model)->ForwardBackward(b.View(), &g), GmfLoss(b), 1e-5 * GmfLoss(b));
}

// Gradients against central differences of the reference loss (double).
TEST(ModelsTest, MfGradientMatchesFiniteDifferences) {
  auto model = Model::Create("mf", Tables("mf"), 3.5);
  ASSERT_TRUE(model.ok());
  for (uint32_t seed : {3u, 4u, 5u}) {
    SCOPED_TRACE(seed);
    CheckGradients(**model, RandomBatch(**model, false, seed),
                   [](const Batch& b) { return MfLoss(b, 3.5); }, 1e-3, 1e-5);
  }
}

TEST(ModelsTest, GmfGradientMatchesFiniteDifferences) {
  auto model = Model::Create("gmf", Tables("gmf"), 0);
  ASSERT_TRUE(model.ok());
  for (uint32_t seed : {6u, 7u, 8u}) {
    SCOPED_TRACE(seed);
    CheckGradients(**model, RandomBatch(**model, true, seed), GmfLoss, 1e-3, 1e-5);
  }
}

// The same check against the loss the model itself returns (float math).
// The mf loss sums squared errors of predictions near 3.5 in float, so it is
// only good to ~1e-7 absolute; with eps = 1e-3 that rounding alone reaches
// ~2e-4 in the difference quotient. The loss is quadratic in each single
// parameter, so a central difference is exact for any eps: use eps = 1e-2 to
// shrink the rounding tenfold.
TEST(ModelsTest, MfGradientMatchesFiniteDifferencesOfOwnLoss) {
  auto model = Model::Create("mf", Tables("mf"), 3.5);
  ASSERT_TRUE(model.ok());
  const Model& m = **model;
  CheckGradients(
      m, RandomBatch(m, false, 9),
      [&m](const Batch& b) {
        BatchGrads unused;
        return m.ForwardBackward(b.View(), &unused);
      },
      1e-2, 1e-4, /*eps=*/1e-2);
}

TEST(ModelsTest, GmfGradientMatchesFiniteDifferencesOfOwnLoss) {
  auto model = Model::Create("gmf", Tables("gmf"), 0);
  ASSERT_TRUE(model.ok());
  const Model& m = **model;
  CheckGradients(
      m, RandomBatch(m, true, 10),
      [&m](const Batch& b) {
        BatchGrads unused;
        return m.ForwardBackward(b.View(), &unused);
      },
      1e-2, 1e-4);
}

}  // namespace
}  // namespace psrec
