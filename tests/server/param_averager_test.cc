// Tail averaging on one shard: the mean replaces the live parameters, a row
// born after the first snapshot averages only the snapshots that saw it,
// optimizer state is kept, and the sums start afresh after an Apply.
#include "server/param_averager.h"

#include <vector>

#include "common/config_proto.h"
#include "gtest/gtest.h"
#include "server/shard_state.h"
#include "tests/server/service_test_config.h"

namespace psrec {
namespace {

constexpr uint32_t kDim = 2;

std::unique_ptr<ShardState> AdamShard() {
  auto shard = ShardState::Create(testing_util::TwoTableConfig("adam", 0.1f, kDim, 3), 0);
  EXPECT_TRUE(shard.ok()) << shard.status();
  return std::move(*shard);
}

std::vector<float> Row(ShardState& shard, uint32_t table, uint64_t id) {
  std::vector<float> out(kDim);
  shard.table(table)->Pull({id}, out.data(), nullptr);
  return out;
}

void Set(ShardState& shard, uint64_t id, float a, float b) {
  const float v[kDim] = {a, b};
  shard.table(kUserTable)->SetParameters(id, v);
}

TEST(ParameterAveragerTest, ReplacesParametersWithTheMeanOfTheSnapshots) {
  auto shard = AdamShard();
  ParameterAverager averager;
  Set(*shard, 1, 1.0f, -2.0f);
  EXPECT_EQ(averager.Accumulate(*shard), 1u);
  Set(*shard, 1, 2.0f, 0.0f);
  Set(*shard, 7, 5.0f, 5.0f);  // born after the first snapshot
  EXPECT_EQ(averager.Accumulate(*shard), 2u);
  Set(*shard, 1, 6.0f, 1.0f);
  Set(*shard, 7, 1.0f, 3.0f);
  EXPECT_EQ(averager.Accumulate(*shard), 3u);
  Set(*shard, 1, 100.0f, 100.0f);  // after the last snapshot: not in the mean
  EXPECT_EQ(averager.Apply(*shard), 3u);
  EXPECT_EQ(Row(*shard, kUserTable, 1), (std::vector<float>{3.0f, -1.0f / 3.0f}));
  EXPECT_EQ(Row(*shard, kUserTable, 7), (std::vector<float>{3.0f, 4.0f}));
  // The sums start afresh: a second Apply without snapshots changes nothing.
  EXPECT_EQ(averager.snapshots(), 0u);
  EXPECT_EQ(averager.Apply(*shard), 0u);
  EXPECT_EQ(Row(*shard, kUserTable, 1), (std::vector<float>{3.0f, -1.0f / 3.0f}));
}

TEST(ParameterAveragerTest, KeepsOptimizerStateAndStepCounts) {
  auto shard = AdamShard();
  EmbeddingTable* items = shard->table(kItemTable);
  const float grad[kDim] = {0.5f, -0.25f};
  items->Push({uint64_t{4}}, grad, 0.1f);
  items->Push({uint64_t{4}}, grad, 0.1f);
  auto state = [&] {
    std::vector<float> out;
    uint32_t steps = 0;
    items->ForEachWithState([&](uint64_t, const float* row, uint32_t step) {
      out.assign(row + kDim, row + items->stride());
      steps = step;
    });
    out.push_back(static_cast<float>(steps));
    return out;
  };
  const std::vector<float> before = state();
  ParameterAverager averager;
  averager.Accumulate(*shard);
  averager.Apply(*shard);
  EXPECT_EQ(state(), before);
  EXPECT_EQ(before.back(), 2.0f);
}

}  // namespace
}  // namespace psrec
