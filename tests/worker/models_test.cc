#include "worker/models.h"

#include <algorithm>
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

constexpr int kBatch = 6;  // even: bpr pairs rows k and k + 3
constexpr uint32_t kDim = 4;

struct Built {
  ModelSpec spec;
  std::unique_ptr<Model> model;
};

Built Make(const std::string& model, uint32_t dim = kDim, std::vector<uint32_t> layers = {},
           const std::string& activation = "relu", float dropout = 0.0f, double mean = 0.0) {
  ModelOptions o;
  o.model = model;
  o.dim = dim;
  o.layers = std::move(layers);
  o.activation = activation;
  o.dropout = dropout;
  if (model == "mlp" || model == "neumf" || model == "mf_mlp") o.mlp_dim = 3;
  auto spec = SpecFor(o);
  EXPECT_TRUE(spec.ok()) << spec.status();
  auto m = Model::Create(*spec, TablesFor(*spec, o), mean);
  EXPECT_TRUE(m.ok()) << m.status();
  return {*spec, std::move(*m)};
}

// A batch that owns its arrays.
struct Batch {
  std::vector<float> users, items, labels;
  std::vector<std::vector<float>> dense;
  uint64_t dropout_seed = 0;

  BatchView View() const {
    BatchView v;
    v.size = static_cast<int>(labels.size());
    v.users = users.data();
    v.items = items.data();
    v.labels = labels.data();
    for (const auto& d : dense) v.dense.push_back(d.data());
    v.dropout_seed = dropout_seed;
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

// ---- the models' definitions in double precision, written from README ----

double Act(const std::string& a, double x) {
  if (a == "relu") return x > 0 ? x : 0;
  if (a == "tanh") return std::tanh(x);
  if (a == "sigmoid") return 1 / (1 + std::exp(-x));
  return x;
}

// head = -1: the model's score; 0 / 1: that head alone (plus the parts
// outside the heads).
double RefScore(const ModelSpec& s, const Batch& b, int r, double mean, int head = -1) {
  const int row = static_cast<int>(s.row_dim());
  const float* u = &b.users[r * row];
  const float* i = &b.items[r * row];
  double score = s.add_mean ? mean : 0.0;
  int off = 0;
  if (s.bias) score += u[0] + static_cast<double>(i[0]), off = 1;
  for (uint32_t k = 0; k < s.dot_dim; ++k, ++off) score += static_cast<double>(u[off]) * i[off];
  if (!s.has_output()) return score;
  std::vector<double> z;
  for (uint32_t k = 0; k < s.gmf_dim; ++k, ++off) z.push_back(static_cast<double>(u[off]) * i[off]);
  if (s.mlp_dim) {
    std::vector<double> x;
    for (uint32_t k = 0; k < s.mlp_dim; ++k) x.push_back(u[off + k]);
    for (uint32_t k = 0; k < s.mlp_dim; ++k) x.push_back(i[off + k]);
    for (size_t l = 0; l < s.layers.size(); ++l) {
      const std::vector<float>& p = b.dense[l];
      std::vector<double> y(s.layers[l]);
      for (uint32_t o = 0; o < s.layers[l]; ++o) {
        double a = p[o];
        for (size_t in = 0; in < x.size(); ++in) a += p[s.layers[l] + o * x.size() + in] * x[in];
        y[o] = Act(s.activation, a);
      }
      x = y;
    }
    z.insert(z.end(), x.begin(), x.end());
  }
  const std::vector<float>& out = b.dense.back();
  const int heads = s.heads();
  std::vector<double> head_scores(heads);
  for (int k = 0; k < heads; ++k) {
    head_scores[k] = out[k];
    for (uint32_t c = s.head_begin(k); c < s.head_begin(k) + s.head_width(k); ++c) {
      head_scores[k] += out[heads + c] * z[c];
    }
  }
  if (head >= 0) return score + head_scores[head];
  if (heads == 1) return score + head_scores[0];
  return score + s.alpha * head_scores[0] + (1 - s.alpha) * head_scores[1];
}

double RefLoss(Loss loss, const ModelSpec& s, const Batch& b, double mean, int head = -1) {
  double sum = 0;
  if (loss == Loss::kBpr) {
    const int pairs = kBatch / 2;
    for (int k = 0; k < pairs; ++k) {
      const double m = RefScore(s, b, k, mean, head) - RefScore(s, b, pairs + k, mean, head);
      sum += std::log1p(std::exp(-m));
    }
    return sum / pairs;
  }
  for (int r = 0; r < kBatch; ++r) {
    const double z = RefScore(s, b, r, mean, head);
    const double y = b.labels[r];
    sum += loss == Loss::kSquared ? (z - y) * (z - y) : std::log1p(std::exp(z)) - y * z;
  }
  return sum / kBatch;
}

// Checks every parameter of the batch with central differences. `loss` is a
// function of the (perturbed) batch; perturbations are applied in double and
// rounded into the float arrays, and the actual step used is the rounded one.
void CheckGradients(const Model& model, Loss loss_kind, Batch batch,
                    const std::function<double(const Batch&)>& loss, double rel_tol,
                    double abs_tol, double eps, bool separate_heads = false) {
  BatchGrads grads;
  model.ForwardBackward(batch.View(), loss_kind, &grads, separate_heads);
  ASSERT_EQ(grads.users.size(), batch.users.size());
  ASSERT_EQ(grads.items.size(), batch.items.size());
  ASSERT_EQ(grads.dense.size(), batch.dense.size());
  for (size_t t = 0; t < batch.dense.size(); ++t) {
    ASSERT_EQ(grads.dense[t].size(), batch.dense[t].size());
  }
  int checked = 0;
  auto check = [&](std::vector<float>* params, const std::vector<float>& analytic,
                   const std::string& what) {
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
    check(&batch.dense[t], grads.dense[t], model.dense_tables()[t].name);
  }
  EXPECT_GT(checked, 0);
}

struct Case {
  std::string model;
  Loss loss;
  std::vector<uint32_t> layers;
  std::string activation;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return info.param.model + "_" + LossName(info.param.loss) + "_" + info.param.activation +
         "_" + std::to_string(info.param.layers.size()) + "layers";
}

class ModelGradientTest : public ::testing::TestWithParam<Case> {};

// Every model and loss: scores and loss equal the double-precision
// definition, and the analytic gradient of every parameter (embeddings and
// dense layers) equals central differences of that definition.
TEST_P(ModelGradientTest, MatchesDefinitionAndFiniteDifferences) {
  const Case& c = GetParam();
  const double mean = c.loss == Loss::kSquared ? 3.5 : 0.0;
  Built built = Make(c.model, kDim, c.layers, c.activation, 0.0f, mean);
  const Model& m = *built.model;
  for (uint32_t seed : {1u, 2u}) {
    SCOPED_TRACE(seed);
    Batch b = RandomBatch(m, c.loss != Loss::kSquared, seed);
    std::vector<float> scores(kBatch);
    m.Score(b.View(), scores.data());
    for (int r = 0; r < kBatch; ++r) {
      EXPECT_NEAR(scores[r], RefScore(built.spec, b, r, mean), 1e-5) << "row " << r;
    }
    BatchGrads g;
    const double ref = RefLoss(c.loss, built.spec, b, mean);
    EXPECT_NEAR(m.ForwardBackward(b.View(), c.loss, &g), ref, 1e-5 * std::fabs(ref) + 1e-6);
    CheckGradients(m, c.loss, b,
                   [&](const Batch& x) { return RefLoss(c.loss, built.spec, x, mean); }, 1e-3,
                   1e-5, 1e-3);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllModels, ModelGradientTest,
    ::testing::Values(Case{"mf", Loss::kSquared, {}, "relu"},
                      Case{"gmf", Loss::kLogistic, {}, "relu"},
                      Case{"gmf", Loss::kBpr, {}, "relu"},
                      Case{"mlp", Loss::kLogistic, {5, 4}, "relu"},
                      Case{"mlp", Loss::kLogistic, {5, 4}, "tanh"},
                      Case{"mlp", Loss::kLogistic, {5}, "sigmoid"},
                      Case{"mlp", Loss::kBpr, {5, 4}, "none"},
                      Case{"mlp", Loss::kLogistic, {}, "relu"},
                      Case{"neumf", Loss::kLogistic, {5, 4, 3}, "relu"},
                      Case{"neumf", Loss::kBpr, {5, 4}, "tanh"},
                      Case{"mf_mlp", Loss::kSquared, {5, 4}, "relu"},
                      Case{"mf_mlp", Loss::kSquared, {6}, "sigmoid"}),
    CaseName);

// neumf's pre-training objective: each head on its own, losses added.
TEST(ModelsTest, SeparateHeadsGradientMatchesFiniteDifferences) {
  for (Loss loss : {Loss::kLogistic, Loss::kBpr}) {
    SCOPED_TRACE(LossName(loss));
    Built built = Make("neumf", kDim, {5, 4}, "tanh");
    const Model& m = *built.model;
    ASSERT_EQ(built.spec.heads(), 2u);
    Batch b = RandomBatch(m, true, 21);
    auto ref = [&](const Batch& x) {
      return RefLoss(loss, built.spec, x, 0, 0) + RefLoss(loss, built.spec, x, 0, 1);
    };
    BatchGrads g;
    EXPECT_NEAR(m.ForwardBackward(b.View(), loss, &g, /*separate_heads=*/true), ref(b), 1e-5);
    CheckGradients(
        m, loss, b, ref, 1e-3, 1e-5, 1e-3,
        /*separate_heads=*/true);
  }
}

// Dropout is a fixed mask for a given seed: the gradient of the model's own
// (float) loss still matches central differences, and the mask changes the
// loss (it is really applied) but never at inference.
TEST(ModelsTest, DropoutGradientMatchesFiniteDifferences) {
  Built built = Make("neumf", kDim, {8, 6}, "tanh", 0.5f);
  const Model& m = *built.model;
  Batch b = RandomBatch(m, true, 11);
  b.dropout_seed = 12345;
  BatchGrads g;
  const double with_dropout = m.ForwardBackward(b.View(), Loss::kLogistic, &g);
  EXPECT_GT(std::fabs(with_dropout - RefLoss(Loss::kLogistic, built.spec, b, 0)), 1e-4);
  CheckGradients(
      m, Loss::kLogistic, b,
      [&m](const Batch& x) {
        BatchGrads unused;
        return m.ForwardBackward(x.View(), Loss::kLogistic, &unused);
      },
      1e-2, 2e-4, 1e-2);
  std::vector<float> scores(kBatch);
  m.Score(b.View(), scores.data());
  for (int r = 0; r < kBatch; ++r) EXPECT_NEAR(scores[r], RefScore(built.spec, b, r, 0), 1e-5);
}

// The trainer keeps one ModelWorkspace across batches: reusing its buffers,
// through batches that grow and shrink, with dropout and both head modes,
// gives bit-identical losses and gradients to a fresh pass every time.
TEST(ModelsTest, ReusedWorkspaceGivesBitIdenticalGradients) {
  for (const char* name : {"neumf", "mlp", "gmf", "mf"}) {
    Built built = Make(name, kDim, std::string(name) == "gmf" || std::string(name) == "mf"
                                       ? std::vector<uint32_t>{}
                                       : std::vector<uint32_t>{8, 6},
                       "relu", 0.25f);
    const Model& m = *built.model;
    ModelWorkspace workspace;
    BatchGrads reused;
    uint32_t seed = 1;
    for (int n : {6, 3, 6, 10, 1, 10}) {
      std::mt19937 gen(seed++);
      std::normal_distribution<float> normal(0.0f, 0.5f);
      Batch b;
      b.users.resize(n * m.user_dim());
      b.items.resize(n * m.item_dim());
      for (float& x : b.users) x = normal(gen);
      for (float& x : b.items) x = normal(gen);
      for (int r = 0; r < n; ++r) b.labels.push_back(static_cast<float>(r % 2));
      for (const TableConfig& t : m.dense_tables()) {
        b.dense.emplace_back(t.dim);
        for (float& x : b.dense.back()) x = normal(gen);
      }
      b.dropout_seed = n % 2 == 0 ? 99 + n : 0;
      const bool separate = n == 10;
      BatchGrads fresh;
      const double want = m.ForwardBackward(b.View(), Loss::kLogistic, &fresh, separate);
      const double got =
          m.ForwardBackward(b.View(), Loss::kLogistic, &reused, separate, &workspace);
      EXPECT_EQ(got, want) << name << " batch of " << n;
      EXPECT_EQ(reused.users, fresh.users) << name << " batch of " << n;
      EXPECT_EQ(reused.items, fresh.items) << name << " batch of " << n;
      EXPECT_EQ(reused.dense, fresh.dense) << name << " batch of " << n;
    }
  }
}

TEST(ModelsTest, CreateChecksTables) {
  ModelOptions o;
  o.model = "gmf";
  o.dim = kDim;
  auto spec = SpecFor(o);
  ASSERT_TRUE(spec.ok());
  EXPECT_FALSE(Model::Create(*spec, {}, 0).ok());
  auto tables = TablesFor(*spec, o);
  tables.pop_back();  // no output table
  EXPECT_EQ(Model::Create(*spec, tables, 0).status().code(), absl::StatusCode::kInvalidArgument);
  o.model = "ncf";
  EXPECT_EQ(SpecFor(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ModelsTest, SpecRejectsBadOptions) {
  ModelOptions o;
  o.model = "gmf";
  o.layers = {8};
  EXPECT_FALSE(SpecFor(o).ok());  // gmf has no tower
  o.model = "mlp";
  o.activation = "gelu";
  EXPECT_FALSE(SpecFor(o).ok());
  o.activation = "relu";
  o.dropout = 1.0f;
  EXPECT_FALSE(SpecFor(o).ok());
  o.dropout = 0.0f;
  o.layers = {};
  EXPECT_FALSE(SpecFor(o).ok());  // no tower, no mlp_dim
  EXPECT_FALSE(ParseLayers("64,,32").ok());
  EXPECT_FALSE(ParseLayers("64,x").ok());
  EXPECT_THAT(*ParseLayers(" 64, 32 ,16"), ::testing::ElementsAre(64u, 32u, 16u));
}

TEST(ModelsTest, Shapes) {
  Built mf = Make("mf");
  EXPECT_EQ(mf.model->user_dim(), kDim + 1);
  EXPECT_TRUE(mf.model->dense_tables().empty());
  Built gmf = Make("gmf");
  EXPECT_EQ(gmf.model->user_dim(), kDim);
  ASSERT_EQ(gmf.model->dense_tables().size(), 1u);
  EXPECT_EQ(gmf.model->dense_tables()[0].dim, kDim + 1);
  // neumf rows [gmf 4 | mlp 3]; tower 6 -> 5 -> 2; output [b, h(4 + 2)].
  Built neumf = Make("neumf", kDim, {5, 2});
  EXPECT_EQ(neumf.model->user_dim(), kDim + 3);
  ASSERT_EQ(neumf.model->dense_tables().size(), 3u);
  EXPECT_EQ(neumf.model->dense_tables()[0].dim, 5u * (6 + 1));
  EXPECT_EQ(neumf.model->dense_tables()[1].dim, 2u * (5 + 1));
  EXPECT_EQ(neumf.model->dense_tables()[2].dim, 2 + kDim + 2);  // two heads
  EXPECT_EQ(neumf.model->dense_tables()[2].zero_prefix, 2u);
  EXPECT_EQ(neumf.model->dense_tables()[0].zero_prefix, 5u);  // biases start at 0
  // mf_mlp rows [bias | dot 4 | mlp 3].
  Built mf_mlp = Make("mf_mlp", kDim, {5});
  EXPECT_EQ(mf_mlp.model->user_dim(), 1 + kDim + 3);
}

TEST(ModelsTest, MfScoreHandCase) {
  Built built = Make("mf", 2, {}, "relu", 0.0f, 3.5);
  const Model& m = *built.model;
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
  m.Score(v, &score);
  // 3.5 + 0.5 - 0.25 + (1*3 + 2*-1) = 4.75.
  EXPECT_FLOAT_EQ(score, 4.75f);
  BatchGrads g;
  // Loss (4.75 - 4)^2 = 0.5625; d/dpred = 2 * 0.75 = 1.5.
  EXPECT_NEAR(m.ForwardBackward(v, Loss::kSquared, &g), 0.5625, 1e-6);
  EXPECT_THAT(g.users, ::testing::ElementsAre(1.5f, 4.5f, -1.5f));  // [1, q] * 1.5
  EXPECT_THAT(g.items, ::testing::ElementsAre(1.5f, 1.5f, 3.0f));   // [1, p] * 1.5
  EXPECT_TRUE(g.dense.empty());
}

TEST(ModelsTest, GmfLossAtZeroLogitIsLog2) {
  Built built = Make("gmf", 2);
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
  EXPECT_NEAR(built.model->ForwardBackward(v, Loss::kLogistic, &g), std::log(2.0), 1e-6);
  ASSERT_EQ(g.dense.size(), 1u);
  EXPECT_NEAR(g.dense[0][0], 0.0f, 1e-7);  // bias: -0.25 + 0.25
  EXPECT_NEAR(g.users[0], -0.25f, 1e-7);
  EXPECT_NEAR(g.users[1], -0.25f, 1e-7);
  EXPECT_NEAR(g.users[2], 0.25f, 1e-7);
  for (float x : g.items) EXPECT_EQ(x, 0.0f);  // p = 0
}

// Recency weighting: the loss is the mean of weight x each example's loss,
// and its gradient (checked by finite differences) follows.
TEST(ModelsTest, WeightedLossesWeighEachExample) {
  const float scores[4] = {0.3f, -1.2f, 2.0f, 0.1f};
  const float labels[4] = {1.0f, 0.0f, 4.0f, 2.5f};
  const float weights[4] = {0.5f, 2.0f, 1.5f, 0.25f};
  const float ones[4] = {1, 1, 1, 1};
  for (Loss loss : {Loss::kLogistic, Loss::kBpr, Loss::kSquared}) {
    SCOPED_TRACE(LossName(loss));
    float d[4], d_one[4], d_plain[4];
    const double weighted = LossAndGradient(loss, scores, labels, 4, d, weights);
    EXPECT_DOUBLE_EQ(LossAndGradient(loss, scores, labels, 4, d_one, ones),
                     LossAndGradient(loss, scores, labels, 4, d_plain));
    for (int r = 0; r < 4; ++r) EXPECT_FLOAT_EQ(d_one[r], d_plain[r]);
    // bpr weighs pair k by weights[k]: rows 0, 1 are the positives.
    const int examples = loss == Loss::kBpr ? 2 : 4;
    double expected = 0;
    for (int k = 0; k < examples; ++k) {
      float one_s[2], one_l[2] = {labels[k], 0}, one_d[2];
      int n = 1;
      one_s[0] = scores[k];
      if (loss == Loss::kBpr) {
        one_s[1] = scores[2 + k];
        n = 2;
      }
      expected += weights[k] * LossAndGradient(loss, one_s, one_l, n, one_d);
    }
    EXPECT_NEAR(weighted, expected / examples, 1e-6);
    for (int r = 0; r < 4; ++r) {
      float up[4], down[4], scratch[4];
      std::copy(scores, scores + 4, up);
      std::copy(scores, scores + 4, down);
      const float h = 1e-3f;
      up[r] += h;
      down[r] -= h;
      const double numeric = (LossAndGradient(loss, up, labels, 4, scratch, weights) -
                              LossAndGradient(loss, down, labels, 4, scratch, weights)) /
                             (2 * h);
      EXPECT_NEAR(d[r], numeric, 2e-3) << "row " << r;
    }
  }
}

TEST(ModelsTest, LossesAreStableForLargeScores) {
  // Scores +100 and -100, both wrong by a margin of 100.
  const float scores[2] = {100.0f, -100.0f};
  const float labels[2] = {0.0f, 1.0f};
  float d[2];
  EXPECT_NEAR(LossAndGradient(Loss::kLogistic, scores, labels, 2, d), 100.0, 1e-3);
  EXPECT_NEAR(d[0], 0.5f, 1e-6);
  EXPECT_NEAR(d[1], -0.5f, 1e-6);
  // bpr: the positive (row 0) is 200 above its negative: no loss.
  EXPECT_NEAR(LossAndGradient(Loss::kBpr, scores, labels, 2, d), 0.0, 1e-6);
  const float flipped[2] = {-100.0f, 100.0f};
  EXPECT_NEAR(LossAndGradient(Loss::kBpr, flipped, labels, 2, d), 200.0, 1e-3);
  EXPECT_NEAR(d[0], -1.0f, 1e-6);
  EXPECT_NEAR(d[1], 1.0f, 1e-6);
  EXPECT_EQ(ParseLoss("hinge", "ranking").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace psrec
