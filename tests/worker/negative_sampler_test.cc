// The negative sampler keeps each user's positives as sorted universe
// indices: sampling stays exact (never a positive while the user has
// unseen items) and positives learnt part by part merge correctly.
#include "worker/negative_sampler.h"

#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "worker/data_shards.h"

namespace psrec {
namespace {

std::unique_ptr<DataShards> Shards(std::vector<Interaction> rows, uint32_t n = 1) {
  auto shards = DataShards::FromInteractions(std::move(rows), n);
  EXPECT_TRUE(shards.ok()) << shards.status();
  return std::move(*shards);
}

TEST(NegativeSamplerTest, NeverSamplesAPositive) {
  std::vector<uint64_t> universe;
  for (uint64_t i = 100; i < 120; ++i) universe.push_back(i);
  std::vector<Interaction> rows;
  // User 1 saw 18 of the 20 items (twice each, and one outside the universe).
  for (uint64_t i = 100; i < 118; ++i) {
    rows.push_back({1, i, 1, 0});
    rows.push_back({1, i, 1, 0});
  }
  rows.push_back({1, 999, 1, 0});
  rows.push_back({2, 105, 1, 0});
  auto shards = Shards(rows, 3);
  NegativeSampler sampler(universe);
  sampler.AddPositives(shards->HeldShards());
  EXPECT_EQ(sampler.num_positives(), 19u);
  EXPECT_TRUE(sampler.Seen(1, 117));
  EXPECT_FALSE(sampler.Seen(1, 118));
  EXPECT_FALSE(sampler.Seen(1, 999));  // outside the universe: never drawn anyway
  EXPECT_TRUE(sampler.Seen(2, 105));
  EXPECT_FALSE(sampler.Seen(3, 105));
  CounterRng rng(7, 1, 2);
  std::set<uint64_t> drawn;
  for (int k = 0; k < 500; ++k) {
    const uint64_t item = sampler.Sample(1, rng);
    EXPECT_FALSE(sampler.Seen(1, item)) << item;
    drawn.insert(item);
  }
  EXPECT_EQ(drawn, (std::set<uint64_t>{118, 119}));
  for (int k = 0; k < 200; ++k) EXPECT_NE(sampler.Sample(2, rng), 105u);
}

TEST(NegativeSamplerTest, PositivesLearntPartByPartMerge) {
  std::vector<uint64_t> universe = {1, 2, 3, 4, 5, 6};
  NegativeSampler sampler(universe);
  auto first = Shards({{10, 1, 1, 0}, {11, 2, 1, 0}, {10, 3, 1, 0}});
  auto second = Shards({{10, 5, 1, 0}, {12, 6, 1, 0}, {10, 1, 1, 0}});
  sampler.AddPositives(first->HeldShards());
  EXPECT_TRUE(sampler.Seen(10, 3));
  EXPECT_FALSE(sampler.Seen(10, 5));
  sampler.AddPositives(second->HeldShards());
  for (uint64_t item : {1, 3, 5}) EXPECT_TRUE(sampler.Seen(10, item)) << item;
  for (uint64_t item : {2, 4, 6}) EXPECT_FALSE(sampler.Seen(10, item)) << item;
  EXPECT_TRUE(sampler.Seen(11, 2));
  EXPECT_TRUE(sampler.Seen(12, 6));
  EXPECT_EQ(sampler.num_positives(), 5u);  // (10,1) once
}

TEST(NegativeSamplerTest, TheSameSeedDrawsTheSameItems) {
  std::vector<uint64_t> universe;
  for (uint64_t i = 0; i < 1000; ++i) universe.push_back(i * 3);
  auto shards = Shards({{1, 3, 1, 0}, {1, 6, 1, 0}});
  NegativeSampler a(universe), b(universe);
  a.AddPositives(shards->HeldShards());
  b.AddPositives(shards->HeldShards());
  CounterRng ra(5, 6, 7), rb(5, 6, 7);
  for (int k = 0; k < 100; ++k) {
    const uint32_t index = a.SampleIndex(1, ra);
    EXPECT_EQ(a.item(index), b.Sample(1, rb));
  }
}

}  // namespace
}  // namespace psrec
