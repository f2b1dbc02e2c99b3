// The single-process MF trainer's per-rating loop against the optimizers and
// the model it stands in for: the same update, bit for bit.
#include "worker/hogwild_mf.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "common/config_proto.h"
#include "common/hash.h"
#include "common/model_spec.h"
#include "gtest/gtest.h"
#include "server/shard_state.h"
#include "worker/models.h"

namespace psrec {
namespace {

constexpr int kDim = 32;  // factors; rows are 1 + kDim floats

rpc::RunConfig MfConfig(const std::string& optimizer, float lr, float l2, uint32_t batch) {
  rpc::RunConfig config;
  config.set_model("mf");
  config.set_task("rating");
  config.set_dim(kDim);
  config.set_optimizer(optimizer);
  config.set_lr(lr);
  config.set_l2(l2);
  config.set_batch_size(batch);
  config.set_epochs(1);
  config.set_seed(5);
  config.set_global_mean(3.5);
  ModelOptions mo;
  mo.model = "mf";
  mo.dim = kDim;
  mo.l2 = l2;
  mo.init_std = 0.3f;  // large enough that every product matters
  auto tables = TablesForModel(mo);
  EXPECT_TRUE(tables.ok()) << tables.status();
  for (const TableConfig& t : *tables) *config.add_tables() = ToProto(t);
  return config;
}

std::vector<float> RandomRow(uint64_t seed, int n) {
  CounterRng rng(seed, 1, 2);
  std::vector<float> row(n);
  for (float& x : row) x = static_cast<float>(rng.Normal() * 0.3);
  return row;
}

// What the batch path does with a batch of this one rating: the model's
// gradient (2 e / batch for the squared loss), then Optimizer::Apply on
// each row.
void ReferenceStep(const Optimizer& opt, std::vector<float>* p, std::vector<float>* q, float mean,
                   float label, float grad_scale, float lr, float l2) {
  const int n = static_cast<int>(p->size());
  const float e = MfScore(p->data(), q->data(), n, mean) - label;
  std::vector<float> gp(n), gq(n);
  gp[0] = gq[0] = grad_scale * e;
  for (int k = 1; k < n; ++k) {
    gp[k] = grad_scale * e * (*q)[k];
    gq[k] = grad_scale * e * (*p)[k];
  }
  opt.Apply(p->data(), nullptr, gp.data(), n, lr, l2, 1, 1);
  opt.Apply(q->data(), nullptr, gq.data(), n, lr, l2, 1, 1);
}

TEST(HogwildMfTest, SgdStepIsTheSgdOptimizersUpdateExactly) {
  auto opt = MakeOptimizer({"sgd", 0.5f});
  ASSERT_TRUE(opt.ok());
  const int n = kDim + 1;
  std::vector<float> scratch(2 * n);
  for (uint64_t r = 0; r < 5; ++r) {
    std::vector<float> p = RandomRow(2 * r, n), q = RandomRow(2 * r + 1, n);
    std::vector<float> p_ref = p, q_ref = q;
    const float label = 1.0f + static_cast<float>(r);
    const float l2 = r % 2 ? 0.01f : 0.0f;
    const float err =
        MfSgdStep(p.data(), q.data(), n, 3.5f, label, 2.0f / 256, 0.5f, l2, scratch.data());
    const float e = MfScore(p_ref.data(), q_ref.data(), n, 3.5f) - label;
    EXPECT_EQ(err, e * e);
    ReferenceStep(**opt, &p_ref, &q_ref, 3.5f, label, 2.0f / 256, 0.5f, l2);
    for (int k = 0; k < n; ++k) {
      EXPECT_EQ(p[k], p_ref[k]) << "row " << r << " user float " << k;
      EXPECT_EQ(q[k], q_ref[k]) << "row " << r << " item float " << k;
    }
  }
}

TEST(HogwildMfTest, ScoreIsTheModelsScore) {
  const rpc::RunConfig config = MfConfig("sgd", 0.1f, 0.0f, 256);
  auto model = Model::FromConfig(config);
  ASSERT_TRUE(model.ok()) << model.status();
  const int n = kDim + 1;
  std::vector<float> p = RandomRow(11, n), q = RandomRow(12, n);
  BatchView view;
  view.size = 1;
  view.users = p.data();
  view.items = q.data();
  float score = 0;
  (*model)->Score(view, &score);
  // Summation order differs (lanes here, Eigen there): equal to rounding.
  EXPECT_NEAR(MfScore(p.data(), q.data(), n, 3.5f), score, 1e-5f);
}

// One rating through the whole trainer (resolving ids to table rows, the
// epoch loop) moves the table's rows exactly as one step of the reference.
void ExpectOneRatingMatches(const std::string& optimizer) {
  const float lr = optimizer == "sgd" ? 0.5f : 0.05f;
  const rpc::RunConfig config = MfConfig(optimizer, lr, 0.01f, 64);
  auto shard = ShardState::Create(config, 0);
  ASSERT_TRUE(shard.ok()) << shard.status();
  const int n = kDim + 1;
  const uint32_t stride = n * (1 + (*shard)->optimizer().state_floats());
  EmbeddingTable* users = (*shard)->table(kUserTable);
  EmbeddingTable* items = (*shard)->table(kItemTable);
  // The rows as born, before training touches them.
  std::vector<float> p(n), q(n);
  users->InitRow(7, p.data());
  items->InitRow(9, q.data());
  std::vector<float> p_state(stride, 0.0f), q_state(stride, 0.0f);
  std::memcpy(p_state.data(), p.data(), n * sizeof(float));
  std::memcpy(q_state.data(), q.data(), n * sizeof(float));

  std::vector<Interaction> train = {{7, 9, 4.5f, 0}};
  auto mf = HogwildMf::Create(shard->get(), config, train);
  ASSERT_TRUE(mf.ok()) << mf.status();
  std::atomic<uint64_t> done{0};
  const HogwildEpochResult r = (*mf)->RunEpoch(0, 1, &done);
  EXPECT_EQ(r.examples, 1u);
  EXPECT_EQ(done.load(), 1u);

  // Reference: the optimizer's Apply with its state, step 1.
  const float e = MfScore(p.data(), q.data(), n, 3.5f) - 4.5f;
  const float d = (2.0f / 64) * e;
  std::vector<float> gp(n), gq(n);
  gp[0] = gq[0] = d;
  for (int k = 1; k < n; ++k) {
    gp[k] = d * q[k];
    gq[k] = d * p[k];
  }
  const Optimizer& opt = (*shard)->optimizer();
  opt.Apply(p_state.data(), p_state.data() + n, gp.data(), n, lr, 0.01f, 1, 1);
  opt.Apply(q_state.data(), q_state.data() + n, gq.data(), n, lr, 0.01f, 1, 1);

  const float* p_row = users->StableRow(7);
  const float* q_row = items->StableRow(9);
  for (uint32_t k = 0; k < stride; ++k) {
    EXPECT_EQ(p_row[k], p_state[k]) << optimizer << " user float " << k;
    EXPECT_EQ(q_row[k], q_state[k]) << optimizer << " item float " << k;
  }
  EXPECT_DOUBLE_EQ(r.loss_sum, static_cast<double>(e * e));
}

TEST(HogwildMfTest, OneRatingThroughTheTrainerIsOneOptimizerStep) {
  ExpectOneRatingMatches("sgd");
  ExpectOneRatingMatches("adagrad");
  ExpectOneRatingMatches("adam");
}

TEST(HogwildMfTest, StableRowsStayPutAndArePulled) {
  const rpc::RunConfig config = MfConfig("sgd", 0.1f, 0.0f, 256);
  auto shard = ShardState::Create(config, 0);
  ASSERT_TRUE(shard.ok());
  EmbeddingTable* users = (*shard)->table(kUserTable);
  float* first = users->StableRow(1);
  first[1] = 42.0f;
  for (uint64_t id = 2; id < 20000; ++id) users->StableRow(id);  // several arena blocks
  EXPECT_EQ(users->StableRow(1), first);
  std::vector<float> pulled(kDim + 1);
  const uint64_t key = 1;
  users->Pull({&key, 1}, pulled.data(), nullptr);
  EXPECT_EQ(pulled[1], 42.0f);
  EXPECT_EQ(users->rows(), 19999u);
}

TEST(HogwildMfTest, RefusesOtherModels) {
  rpc::RunConfig config = MfConfig("sgd", 0.1f, 0.0f, 256);
  config.set_model("gmf");
  auto shard = ShardState::Create(config, 0);
  ASSERT_TRUE(shard.ok());
  std::vector<Interaction> train = {{1, 2, 1.0f, 0}};
  auto mf = HogwildMf::Create(shard->get(), config, train);
  EXPECT_FALSE(mf.ok());
}

}  // namespace
}  // namespace psrec
