#include "server/embedding_table.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "common/model_spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/optimizer.h"

namespace psrec {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::FloatEq;

std::unique_ptr<Optimizer> Sgd(float lr = 0.1f) {
  OptimizerOptions o;
  o.name = "sgd";
  o.lr = lr;
  auto opt = MakeOptimizer(o);
  EXPECT_TRUE(opt.ok()) << opt.status();
  return std::move(*opt);
}

TableConfig Config(uint32_t id, uint32_t dim, float init_std = 0.1f) {
  TableConfig c;
  c.id = id;
  c.name = "t";
  c.dim = dim;
  c.init_std = init_std;
  return c;
}

std::vector<float> PullOne(EmbeddingTable& t, uint64_t id) {
  std::vector<float> out(t.dim());
  const uint64_t key = id;
  t.Pull({&key, 1}, out.data(), nullptr);
  return out;
}

class EmbeddingTableTest : public ::testing::Test {
 protected:
  std::unique_ptr<Optimizer> sgd_ = Sgd();
};

TEST_F(EmbeddingTableTest, CountsOneOptimizerStepPerPushedKey) {
  EmbeddingTable t(Config(1, 4), sgd_.get(), /*seed=*/3);
  const std::vector<uint64_t> keys = {1, 2, 3};
  const std::vector<float> grads(keys.size() * 4, 0.5f);
  PullOne(t, 9);  // pulls are not steps
  t.Push(keys, grads.data(), 0.1f);
  t.Push({keys.data(), 2}, grads.data(), 0.1f);
  EXPECT_EQ(t.optimizer_steps(), 5u);
}

TEST_F(EmbeddingTableTest, AddToRowsAddsDeltasAsTheyAre) {
  // L2 and a large lr would change a pushed gradient; a delta is added as is.
  TableConfig config = Config(1, 4);
  config.l2 = 0.5f;
  config.lr_scale = 10.0f;
  EmbeddingTable t(config, sgd_.get(), /*seed=*/3);
  const std::vector<uint64_t> keys = {7, 8};
  const std::vector<float> before7 = PullOne(t, 7);
  const std::vector<float> deltas = {1, 2, 3, 4, -1, -2, -3, -4};
  t.AddToRows(keys, deltas.data());
  t.AddToRows({keys.data(), 1}, deltas.data());
  const std::vector<float> after7 = PullOne(t, 7);
  for (int k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(after7[k], before7[k] + 2 * deltas[k]) << k;
  EXPECT_EQ(t.delta_rows(), 3u);
  EXPECT_EQ(t.optimizer_steps(), 3u);  // a delta is one update of its row
}

TEST_F(EmbeddingTableTest, AssignRowsSetsValuesAndStartsTheOptimizerAfresh) {
  OptimizerOptions o;
  o.name = "adam";
  o.lr = 0.01f;
  auto adam = MakeOptimizer(o);
  ASSERT_TRUE(adam.ok()) << adam.status();
  const std::vector<uint64_t> keys = {7, 9};  // 9 does not exist yet
  const std::vector<float> values = {1, 2, 3, 4, -1, -2, -3, -4};
  const std::vector<float> grads = {0.5f, -0.5f, 0.25f, 1, 1, 1, 1, 1};
  // Row 7 trains first, so its Adam moments and step count are not zero.
  EmbeddingTable trained(Config(1, 4), adam->get(), /*seed=*/3);
  trained.Push({keys.data(), 1}, grads.data(), 0.01f);
  trained.Push({keys.data(), 1}, grads.data() + 4, 0.01f);
  trained.AssignRows(keys, values.data());
  EXPECT_THAT(PullOne(trained, 7), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(PullOne(trained, 9), ElementsAre(-1, -2, -3, -4));
  // The next push moves row 7 as it moves a row that never trained.
  EmbeddingTable fresh(Config(1, 4), adam->get(), /*seed=*/3);
  fresh.AssignRows(keys, values.data());
  trained.Push(keys, grads.data(), 0.01f);
  fresh.Push(keys, grads.data(), 0.01f);
  EXPECT_EQ(PullOne(trained, 7), PullOne(fresh, 7));
  EXPECT_NE(PullOne(trained, 7), std::vector<float>({1, 2, 3, 4}));
  EXPECT_EQ(PullOne(trained, 9), PullOne(fresh, 9));
}

TEST_F(EmbeddingTableTest, InitIsDeterministicAcrossTableObjects) {
  EmbeddingTable a(Config(1, 8), sgd_.get(), /*seed=*/17);
  EmbeddingTable b(Config(1, 8), sgd_.get(), /*seed=*/17, /*num_stripes=*/4);
  // Touch other rows first in one table: creation order must not matter.
  PullOne(b, 5);
  PullOne(b, 6);
  for (uint64_t id : {0ULL, 1ULL, 42ULL, 1ULL << 40}) {
    std::vector<float> ra = PullOne(a, id);
    std::vector<float> rb = PullOne(b, id);
    EXPECT_EQ(ra, rb) << "id " << id;
    std::vector<float> init(8);
    a.InitRow(id, init.data());
    EXPECT_EQ(ra, init) << "id " << id;
  }
}

TEST_F(EmbeddingTableTest, InitDiffersAcrossIdsSeedsAndTables) {
  EmbeddingTable t(Config(1, 8), sgd_.get(), 17);
  EmbeddingTable other_seed(Config(1, 8), sgd_.get(), 18);
  EmbeddingTable other_table(Config(2, 8), sgd_.get(), 17);
  const std::vector<float> r42 = PullOne(t, 42);
  EXPECT_NE(r42, PullOne(t, 43));
  EXPECT_NE(r42, PullOne(other_seed, 42));
  EXPECT_NE(r42, PullOne(other_table, 42));
  // Within a row the values differ from each other too.
  EXPECT_NE(r42[0], r42[1]);
}

TEST_F(EmbeddingTableTest, ZeroPrefixIsZero) {
  TableConfig c = Config(0, 6, 0.5f);
  c.zero_prefix = 2;
  EmbeddingTable t(c, sgd_.get(), 3);
  for (uint64_t id = 0; id < 200; ++id) {
    std::vector<float> r = PullOne(t, id);
    EXPECT_EQ(r[0], 0.0f);
    EXPECT_EQ(r[1], 0.0f);
    EXPECT_NE(r[2], 0.0f);
  }
}

TEST_F(EmbeddingTableTest, InitStdIsRespected) {
  constexpr float kStd = 0.5f;
  constexpr int kDim = 8, kRows = 4000;
  EmbeddingTable t(Config(0, kDim, kStd), sgd_.get(), 99);
  double sum = 0, sq = 0;
  for (uint64_t id = 0; id < kRows; ++id) {
    for (float v : PullOne(t, id)) {
      sum += v;
      sq += static_cast<double>(v) * v;
    }
  }
  const double n = kDim * kRows;
  const double mean = sum / n;
  const double sd = std::sqrt(sq / n - mean * mean);
  // 32000 draws: standard errors ~0.003 (mean) and ~0.002 (sd).
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(sd, kStd, 0.02);
}

TEST_F(EmbeddingTableTest, InitUniformStaysInBounds) {
  TableConfig c = Config(2, 10, 0.0f);
  c.init_uniform = 0.3f;
  c.zero_prefix = 1;
  EmbeddingTable t(c, sgd_.get(), 5);
  double sum = 0, sq = 0, max_abs = 0;
  int n = 0;
  for (uint64_t id = 0; id < 2000; ++id) {
    std::vector<float> r = PullOne(t, id);
    EXPECT_EQ(r[0], 0.0f);
    for (int i = 1; i < 10; ++i) {
      ASSERT_LE(std::fabs(r[i]), 0.3f);
      max_abs = std::max(max_abs, static_cast<double>(std::fabs(r[i])));
      sum += r[i];
      sq += static_cast<double>(r[i]) * r[i];
      ++n;
    }
  }
  EXPECT_GT(max_abs, 0.29);  // fills the range, not a normal squeezed into it
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  // Variance of U(-a, a) is a^2 / 3 = 0.03.
  EXPECT_NEAR(sq / n, 0.03, 0.002);
}

TEST_F(EmbeddingTableTest, ZeroStdInitsZeros) {
  EmbeddingTable t(Config(0, 4, 0.0f), sgd_.get(), 5);
  EXPECT_THAT(PullOne(t, 77), Each(0.0f));
}

TEST_F(EmbeddingTableTest, PullCreatesRowsOnce) {
  EmbeddingTable t(Config(0, 3), sgd_.get(), 1);
  EXPECT_EQ(t.rows(), 0u);
  const std::vector<uint64_t> keys = {10, 20, 30};
  std::vector<float> out(9);
  t.Pull(keys, out.data(), nullptr);
  EXPECT_EQ(t.rows(), 3u);
  std::vector<float> again(9);
  t.Pull(keys, again.data(), nullptr);
  EXPECT_EQ(t.rows(), 3u);
  EXPECT_EQ(out, again);
  // Row i of the output is key i's row.
  std::vector<float> r20(3);
  t.InitRow(20, r20.data());
  EXPECT_EQ(std::vector<float>(out.begin() + 3, out.begin() + 6), r20);
}

TEST_F(EmbeddingTableTest, ReadOnlyPullCreatesNothing) {
  EmbeddingTable t(Config(0, 2), sgd_.get(), 1);
  const float row[2] = {1.5f, -2.5f};
  t.Insert(7, row);
  ASSERT_EQ(t.rows(), 1u);

  const std::vector<uint64_t> keys = {8, 7, 9};
  std::vector<float> out(6, 123.0f);
  uint8_t found[3] = {9, 9, 9};
  t.Pull(keys, out.data(), found);
  EXPECT_THAT(found, ElementsAre(0, 1, 0));
  EXPECT_THAT(out, ElementsAre(0.0f, 0.0f, 1.5f, -2.5f, 0.0f, 0.0f));
  EXPECT_EQ(t.rows(), 1u);

  // A creating pull afterwards sees the deterministic init, not zeros.
  std::vector<float> init(2);
  t.InitRow(8, init.data());
  EXPECT_EQ(PullOne(t, 8), init);
  EXPECT_NE(init, std::vector<float>(2, 0.0f));
  EXPECT_EQ(t.rows(), 2u);
}

TEST_F(EmbeddingTableTest, SgdPushIsExact) {
  TableConfig c = Config(0, 3);
  c.l2 = 0.1f;
  EmbeddingTable t(c, sgd_.get(), 1);
  const float w[3] = {1.0f, -2.0f, 0.5f};
  t.Insert(4, w);
  const uint64_t key = 4;
  const float g[3] = {0.5f, 0.25f, -1.0f};
  t.Push({&key, 1}, g, 0.1f);
  // w - lr * (g + l2 * w):
  //   1    - 0.1 * ( 0.5  + 0.1 *  1  ) =  0.94
  //   -2   - 0.1 * ( 0.25 + 0.1 * -2  ) = -2.005
  //   0.5  - 0.1 * (-1    + 0.1 * 0.5 ) =  0.595
  std::vector<float> r = PullOne(t, 4);
  EXPECT_NEAR(r[0], 0.94f, 1e-6);
  EXPECT_NEAR(r[1], -2.005f, 1e-6);
  EXPECT_NEAR(r[2], 0.595f, 1e-6);
  EXPECT_EQ(t.rows(), 1u);
}

// The zero_prefix floats (biases) are exempt from L2.
TEST_F(EmbeddingTableTest, L2SkipsZeroPrefix) {
  TableConfig c = Config(0, 3);
  c.l2 = 0.5f;
  c.zero_prefix = 1;
  EmbeddingTable t(c, sgd_.get(), 1);
  const float w[3] = {2.0f, 2.0f, -4.0f};
  t.Insert(4, w);
  const uint64_t key = 4;
  const float g[3] = {1.0f, 1.0f, 1.0f};
  t.Push({&key, 1}, g, 0.1f);
  // bias: 2 - 0.1 * 1 = 1.9; factors: 2 - 0.1 * (1 + 1) = 1.8,
  // -4 - 0.1 * (1 - 2) = -3.9.
  EXPECT_THAT(PullOne(t, 4), ElementsAre(FloatEq(1.9f), FloatEq(1.8f), FloatEq(-3.9f)));
}

TEST_F(EmbeddingTableTest, PushCreatesMissingRowFromInit) {
  EmbeddingTable t(Config(0, 2), sgd_.get(), 11);
  std::vector<float> init(2);
  t.InitRow(5, init.data());
  const uint64_t key = 5;
  const float g[2] = {1.0f, -2.0f};
  t.Push({&key, 1}, g, 0.5f);
  EXPECT_EQ(t.rows(), 1u);
  std::vector<float> r = PullOne(t, 5);
  EXPECT_NEAR(r[0], init[0] - 0.5f, 1e-6);
  EXPECT_NEAR(r[1], init[1] + 1.0f, 1e-6);
}

TEST_F(EmbeddingTableTest, LrScaleMultipliesLearningRate) {
  TableConfig c = Config(0, 2);
  c.lr_scale = 0.5f;
  EmbeddingTable t(c, sgd_.get(), 1);
  const float zero[2] = {0.0f, 0.0f};
  t.Insert(1, zero);
  const uint64_t key = 1;
  const float g[2] = {1.0f, -4.0f};
  t.Push({&key, 1}, g, 0.2f);
  // Effective lr 0.2 * 0.5 = 0.1.
  EXPECT_THAT(PullOne(t, 1), ElementsAre(FloatEq(-0.1f), FloatEq(0.4f)));
}

TEST_F(EmbeddingTableTest, PushesSeveralKeysEachWithItsOwnGradient) {
  EmbeddingTable t(Config(0, 2), sgd_.get(), 1);
  const float zero[2] = {0.0f, 0.0f};
  for (uint64_t id : {1, 2, 3}) t.Insert(id, zero);
  const std::vector<uint64_t> keys = {3, 1};
  const float g[4] = {1.0f, 2.0f, 10.0f, 20.0f};
  t.Push(keys, g, 1.0f);
  EXPECT_THAT(PullOne(t, 3), ElementsAre(-1.0f, -2.0f));
  EXPECT_THAT(PullOne(t, 1), ElementsAre(-10.0f, -20.0f));
  EXPECT_THAT(PullOne(t, 2), ElementsAre(0.0f, 0.0f));
}

TEST_F(EmbeddingTableTest, InsertThenPullReturnsValues) {
  EmbeddingTable t(Config(1, 4), sgd_.get(), 1);
  const float a[4] = {1, 2, 3, 4};
  const float b[4] = {-1, -2, -3, -4};
  t.Insert(100, a);
  t.Insert(200, b);
  EXPECT_EQ(t.rows(), 2u);
  EXPECT_THAT(PullOne(t, 100), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(PullOne(t, 200), ElementsAre(-1, -2, -3, -4));
  // Insert over an existing row overwrites it without adding a row.
  t.Insert(100, b);
  EXPECT_EQ(t.rows(), 2u);
  EXPECT_THAT(PullOne(t, 100), ElementsAre(-1, -2, -3, -4));
}

TEST_F(EmbeddingTableTest, ForEachVisitsEveryRowOnce) {
  EmbeddingTable t(Config(0, 2), sgd_.get(), 1, /*num_stripes=*/8);
  constexpr uint64_t kRows = 5000;
  for (uint64_t id = 0; id < kRows; ++id) {
    const float row[2] = {static_cast<float>(id), static_cast<float>(id) * 0.5f};
    t.Insert(id * 7919, row);
  }
  std::map<uint64_t, int> seen;
  bool values_ok = true;
  t.ForEach([&](uint64_t id, const float* p) {
    ++seen[id];
    const float expect = static_cast<float>(id / 7919);
    if (id % 7919 != 0 || p[0] != expect || p[1] != expect * 0.5f) values_ok = false;
  });
  EXPECT_TRUE(values_ok);
  ASSERT_EQ(seen.size(), kRows);
  for (const auto& [id, count] : seen) ASSERT_EQ(count, 1) << "id " << id;
}

TEST_F(EmbeddingTableTest, RowsAndBytesGrow) {
  EmbeddingTable t(Config(0, 16), sgd_.get(), 1);
  EXPECT_EQ(t.rows(), 0u);
  const uint64_t empty_bytes = t.bytes();
  PullOne(t, 1);
  EXPECT_EQ(t.rows(), 1u);
  const uint64_t one_row_bytes = t.bytes();
  EXPECT_GT(one_row_bytes, empty_bytes);
  EXPECT_GE(one_row_bytes, 16 * sizeof(float));
  std::vector<uint64_t> keys(100000);
  for (uint64_t i = 0; i < keys.size(); ++i) keys[i] = i + 2;
  std::vector<float> out(keys.size() * 16);
  t.Pull(keys, out.data(), nullptr);
  EXPECT_EQ(t.rows(), 100001u);
  EXPECT_GT(t.bytes(), one_row_bytes);
  // The arena at least holds every row's parameters.
  EXPECT_GE(t.bytes(), 100001u * 16 * sizeof(float));
}

TEST_F(EmbeddingTableTest, DenseTableWorks) {
  TableConfig c = Config(kDenseTable, 5, 0.0f);
  c.dense = true;
  c.init_uniform = 1.0f;
  EmbeddingTable t(c, sgd_.get(), 1);
  std::vector<float> r = PullOne(t, 0);
  for (float v : r) EXPECT_LE(std::fabs(v), 1.0f);
  const uint64_t key = 0;
  const float g[5] = {1, 1, 1, 1, 1};
  t.Push({&key, 1}, g, 0.25f);
  std::vector<float> after = PullOne(t, 0);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(after[i], r[i] - 0.25f, 1e-6);
}

// Four threads push g = 1 to overlapping keys (all create the shared keys
// concurrently). With SGD and l2 = 0 every push subtracts exactly lr from the
// row, and w - lr is computed the same way whatever the order, so the result
// must equal a sequential replay bit for bit; a lost update would leave the
// row too high.
TEST_F(EmbeddingTableTest, ConcurrentPushesSumExactly) {
  constexpr int kThreads = 4;
  constexpr int kIters = 20000;
  constexpr int kShared = 16;
  constexpr float kLr = 1e-4f;
  for (int stripes : {1, 64}) {
    EmbeddingTable t(Config(0, 4, 0.1f), sgd_.get(), 21, stripes);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int th = 0; th < kThreads; ++th) {
      threads.emplace_back([&t, &ready, th] {
        // Shared keys in a thread-specific order plus one private key.
        std::vector<uint64_t> keys;
        for (int k = 0; k < kShared; ++k) keys.push_back((k + th * 5) % kShared);
        keys.push_back(1000 + th);
        std::vector<float> g(keys.size() * 4, 1.0f);
        // Start together so the pushes really overlap.
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        for (int i = 0; i < kIters; ++i) t.Push(keys, g.data(), kLr);
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(t.rows(), static_cast<uint64_t>(kShared + kThreads));

    auto replay = [&](uint64_t id, int pushes) {
      std::vector<float> w(4);
      t.InitRow(id, w.data());
      for (int i = 0; i < pushes; ++i) {
        for (float& x : w) x -= kLr * 1.0f;
      }
      return w;
    };
    for (uint64_t k = 0; k < kShared; ++k) {
      const std::vector<float> got = PullOne(t, k);
      const std::vector<float> want = replay(k, kThreads * kIters);
      std::vector<float> init(4);
      t.InitRow(k, init.data());
      for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(got[i], want[i]) << "stripes " << stripes << " key " << k;
        // init - lr * 80000 = init - 8, up to float rounding of the sum.
        EXPECT_NEAR(got[i], init[i] - kLr * kThreads * kIters, 0.05);
      }
    }
    for (int th = 0; th < kThreads; ++th) {
      const std::vector<float> got = PullOne(t, 1000 + th);
      EXPECT_EQ(got, replay(1000 + th, kIters)) << "stripes " << stripes;
    }
  }
}

// Pulls that create rows race with pushes: every key ends up with one row.
TEST_F(EmbeddingTableTest, ConcurrentCreationMakesOneRowPerKey) {
  EmbeddingTable t(Config(0, 2), sgd_.get(), 3, /*num_stripes=*/4);
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&t, th] {
      std::vector<uint64_t> keys(1000);
      for (int i = 0; i < 1000; ++i) keys[i] = (i * 7 + th * 250) % 1000;
      std::vector<float> out(2000);
      if (th % 2 == 0) {
        t.Pull(keys, out.data(), nullptr);
      } else {
        std::vector<float> g(2000, 0.0f);
        t.Push(keys, g.data(), 0.1f);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(t.rows(), 1000u);
  int visited = 0;
  t.ForEach([&](uint64_t, const float*) { ++visited; });
  EXPECT_EQ(visited, 1000);
  // Zero gradients leave rows at their init.
  std::vector<float> init(2);
  t.InitRow(123, init.data());
  EXPECT_EQ(PullOne(t, 123), init);
}

}  // namespace
}  // namespace psrec
