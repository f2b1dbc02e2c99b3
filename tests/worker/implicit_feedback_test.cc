// SVD++'s implicit feedback (worker/implicit_feedback.h): N(u), the term the
// BatchAssembler adds into user rows, the gradient it pushes to y (checked
// against finite differences of the loss, through an in-process shard with
// SGD), and the fold into saved user rows (scores identical before and after).
#include "worker/implicit_feedback.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "common/config_proto.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "server/shard_state.h"
#include "worker/batch_assembler.h"
#include "worker/evaluator.h"
#include "worker/implicit_fold.h"
#include "worker/local_ps_client.h"
#include "worker/model_manifest.h"
#include "worker/models.h"
#include "worker/saved_model.h"

namespace psrec {
namespace {

constexpr float kLr = 0.01f;

rpc::RunConfig RatingConfig(const std::string& model, bool implicit) {
  ModelOptions o;
  o.model = model;
  o.dim = 4;
  if (model == "mf_mlp") {
    o.mlp_dim = 3;
    o.layers = {5};
    o.activation = "tanh";  // smooth, for finite differences
  }
  o.init_std = 0.3f;  // every part has a real gradient
  o.implicit_feedback = implicit;
  auto spec = SpecFor(o);
  EXPECT_TRUE(spec.ok()) << spec.status();
  rpc::RunConfig c;
  c.set_task("rating");
  c.set_model(model);
  c.set_loss("squared");
  c.set_dim(o.dim);
  c.set_mlp_dim(spec->mlp_dim);
  for (uint32_t w : o.layers) c.add_layers(w);
  c.set_activation(o.activation);
  c.set_optimizer("sgd");
  c.set_lr(kLr);
  c.set_seed(11);
  c.set_global_mean(3.5);
  c.set_min_rating(1);
  c.set_max_rating(5);
  c.set_implicit_feedback(implicit);
  for (const TableConfig& t : TablesFor(*spec, o)) *c.add_tables() = ToProto(t);
  return c;
}

// Users 1-3 rated overlapping items; user 2 rated item 10 twice.
std::vector<Interaction> Train() {
  return {{1, 10, 4}, {1, 11, 3}, {1, 12, 5}, {2, 10, 2}, {2, 13, 4},
          {2, 10, 3}, {3, 12, 1}, {3, 14, 4}, {3, 15, 5}, {3, 11, 2}};
}

const std::vector<uint64_t> kUsers = {1, 1, 2, 3, 2, 3};
const std::vector<uint64_t> kItems = {10, 11, 13, 12, 10, 16};
const std::vector<float> kLabels = {4, 3, 4, 1, 2, 5};

TEST(ImplicitFeedbackTest, ItemsAreTheDistinctTrainingItemsAscending) {
  ImplicitFeedback f({{2, 30, 1}, {2, 10, 1}, {2, 30, 2}, {5, 7, 1}});
  EXPECT_EQ(std::vector<uint64_t>(f.Items(2).begin(), f.Items(2).end()),
            (std::vector<uint64_t>{10, 30}));
  EXPECT_EQ(f.Items(5).size(), 1u);
  EXPECT_TRUE(f.Items(99).empty());
  EXPECT_EQ(f.users(), 2u);
  EXPECT_FLOAT_EQ(ImplicitNorm(4), 0.5f);
  EXPECT_EQ(ImplicitNorm(0), 0.0f);
}

TEST(ImplicitFeedbackTest, ModelsWithoutADotProductRefuseIt) {
  ModelOptions o;
  o.model = "gmf";
  o.implicit_feedback = true;
  EXPECT_FALSE(SpecFor(o).ok());
}

// The loss of the fixed batch with the shard's current parameters.
double BatchLoss(const Model& model, PsClient* ps, const ImplicitFeedback& implicit) {
  BatchAssembler a(&model, ps, &implicit);
  EXPECT_TRUE(a.Gather(kUsers, kItems, /*read_only=*/true).ok());
  BatchGrads g;
  return model.ForwardBackward(a.View(kLabels.data()), Loss::kSquared, &g);
}

class ImplicitGradientTest : public ::testing::TestWithParam<const char*> {};

// What the servers apply to y_j and to the user rows is d(mean loss)/d(row):
// SGD moves a row by -lr x pushed gradient; central differences of the loss
// in each float of y (and of a user row's factors) must agree.
TEST_P(ImplicitGradientTest, PushedGradientsAreTheLossGradient) {
  const rpc::RunConfig config = RatingConfig(GetParam(), true);
  auto model = Model::FromConfig(config);
  ASSERT_TRUE(model.ok()) << model.status();
  auto shard = ShardState::Create(config, 0);
  ASSERT_TRUE(shard.ok()) << shard.status();
  LocalPsClient ps(shard->get());
  const ImplicitFeedback implicit(Train());
  const uint32_t y_table = (*model)->implicit_table().id;
  EmbeddingTable* y = (*shard)->table(y_table);
  EmbeddingTable* users = (*shard)->table(kUserTable);
  const uint32_t yd = (*model)->spec().implicit_dim;
  ASSERT_EQ(yd, 4u);

  // Creates every row the batch touches (y of N(1), N(2), N(3)).
  BatchAssembler assembler(model->get(), &ps, &implicit);
  ASSERT_TRUE(assembler.Gather(kUsers, kItems, /*read_only=*/false).ok());

  // Finite differences, before anything moves.
  const std::vector<uint64_t> y_ids = {10, 11, 12, 13, 14, 15};
  const float eps = 1e-2f;
  auto numeric = [&](EmbeddingTable* table, uint64_t id, uint32_t dim, uint32_t d) {
    std::vector<float> row(dim);
    uint8_t found = 0;
    table->Pull({&id, 1}, row.data(), &found);
    EXPECT_TRUE(found);
    const float saved = row[d];
    row[d] = saved + eps;
    table->Insert(id, row.data());
    const double up = BatchLoss(**model, &ps, implicit);
    row[d] = saved - eps;
    table->Insert(id, row.data());
    const double down = BatchLoss(**model, &ps, implicit);
    row[d] = saved;
    table->Insert(id, row.data());
    return (up - down) / (2 * eps);
  };
  std::vector<double> fd_y, fd_user;
  for (uint64_t id : y_ids) {
    for (uint32_t d = 0; d < yd; ++d) fd_y.push_back(numeric(y, id, yd, d));
  }
  const uint32_t ud = (*model)->user_dim();
  for (uint32_t d = 0; d < ud; ++d) fd_user.push_back(numeric(users, 3, ud, d));

  // One SGD step of the real thing.
  auto pull = [](EmbeddingTable* t, uint64_t id, uint32_t dim) {
    std::vector<float> row(dim);
    uint8_t found = 0;
    t->Pull({&id, 1}, row.data(), &found);
    return row;
  };
  std::vector<std::vector<float>> y_before, y_after;
  for (uint64_t id : y_ids) y_before.push_back(pull(y, id, yd));
  const std::vector<float> user_before = pull(users, 3, ud);
  ASSERT_TRUE(assembler.Gather(kUsers, kItems, /*read_only=*/false).ok());
  BatchGrads grads;
  (*model)->ForwardBackward(assembler.View(kLabels.data()), Loss::kSquared, &grads);
  ASSERT_TRUE(assembler.Push(grads).ok());
  const std::vector<float> user_after = pull(users, 3, ud);

  double largest = 0;
  for (size_t k = 0; k < y_ids.size(); ++k) {
    const std::vector<float> after = pull(y, y_ids[k], yd);
    for (uint32_t d = 0; d < yd; ++d) {
      const double pushed = (y_before[k][d] - after[d]) / kLr;
      const double want = fd_y[k * yd + d];
      largest = std::max(largest, std::fabs(want));
      EXPECT_NEAR(pushed, want, 2e-3 + 0.02 * std::fabs(want))
          << "y of item " << y_ids[k] << " float " << d;
    }
  }
  EXPECT_GT(largest, 1e-2) << "the check needs real gradients on y";
  for (uint32_t d = 0; d < ud; ++d) {
    const double pushed = (user_before[d] - user_after[d]) / kLr;
    EXPECT_NEAR(pushed, fd_user[d], 2e-3 + 0.02 * std::fabs(fd_user[d])) << "user float " << d;
  }
  // Item 16 is no user's N(u): it has no y row.
  uint64_t unrated = 16;
  std::vector<float> row(yd);
  uint8_t found = 1;
  y->Pull({&unrated, 1}, row.data(), &found);
  EXPECT_FALSE(found);
}

INSTANTIATE_TEST_SUITE_P(RatingModels, ImplicitGradientTest, ::testing::Values("mf", "mf_mlp"));

// Folding the term into saved user rows: the saved model (plain layout, no
// y table) scores every pair exactly as the live model with y and N(u) did.
TEST(ImplicitFoldTest, SavedModelScoresExactlyAsTraining) {
  const rpc::RunConfig config = RatingConfig("mf_mlp", true);
  auto model = Model::FromConfig(config);
  ASSERT_TRUE(model.ok()) << model.status();
  const ImplicitFeedback implicit(Train());
  const std::string dir = ::testing::TempDir() + "/implicit_fold_model";
  // Two shard files, as two servers would write them (ids split by parity).
  for (uint32_t i = 0; i < 2; ++i) {
    auto shard = ShardState::Create(config, i);
    ASSERT_TRUE(shard.ok());
    LocalPsClient ps(shard->get());
    BatchAssembler a(model->get(), &ps, &implicit);
    std::vector<uint64_t> us, is;
    for (size_t k = 0; k < kUsers.size(); ++k) {
      if (kUsers[k] % 2 == i) us.push_back(kUsers[k]), is.push_back(kItems[k]);
    }
    ASSERT_TRUE(a.Gather(us, is, false).ok());  // creates the rows
    ASSERT_TRUE((*shard)->Save(dir).ok());
  }
  ASSERT_TRUE(WriteModelManifest(dir, {config, 2}).ok());

  // The live view: every shard's rows in one state, with y and N(u).
  auto live_state = ShardState::Create(config, 0);
  ASSERT_TRUE(live_state.ok());
  ASSERT_TRUE((*live_state)->LoadAll(dir, 2).ok());
  LocalPsClient live_ps(live_state->get());
  Evaluator live(model->get(), &live_ps, &implicit);
  std::vector<float> want, got, plain;
  EvalResult ignored;
  ASSERT_TRUE(live.Score(kUsers, kItems, &want, &ignored).ok());

  ASSERT_TRUE(FoldImplicitFeedback(dir, implicit).ok());
  auto saved = SavedModel::Load(dir);
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_FALSE((*saved)->config().implicit_feedback());
  EXPECT_TRUE((*saved)->config().implicit_folded());
  EXPECT_EQ((*saved)->config().tables_size(), config.tables_size() - 1);
  Evaluator folded(&(*saved)->model(), (*saved)->ps());
  ASSERT_TRUE(folded.Score(kUsers, kItems, &got, &ignored).ok());
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) EXPECT_EQ(got[k], want[k]) << "pair " << k;

  // Without the term the scores differ: the fold did something.
  Evaluator without(model->get(), &live_ps);
  ASSERT_TRUE(without.Score(kUsers, kItems, &plain, &ignored).ok());
  EXPECT_NE(plain, want);
  // A model without implicit feedback is left alone.
  EXPECT_TRUE(FoldImplicitFeedback(dir, implicit).ok());
}

}  // namespace
}  // namespace psrec
