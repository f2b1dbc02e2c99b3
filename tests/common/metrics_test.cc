#include "common/metrics.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace psrec {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(RankOfTargetTest, CountsNegativesScoringAtLeastTheTarget) {
  EXPECT_EQ(RankOfTarget(0.5f, {0.1f, 0.7f, 0.2f, 0.9f}), 2);
  EXPECT_EQ(RankOfTarget(1.0f, {0.1f, 0.7f, 0.2f}), 0);
  EXPECT_EQ(RankOfTarget(-1.0f, {0.1f, 0.7f, 0.2f}), 3);
  EXPECT_EQ(RankOfTarget(0.5f, {}), 0);
}

TEST(RankOfTargetTest, TiesCountAgainstTheModel) {
  EXPECT_EQ(RankOfTarget(0.5f, {0.5f, 0.4f, 0.6f}), 2);
  EXPECT_EQ(RankOfTarget(kInf, {kInf, 1.0f}), 1);
  // A constant model ranks the target last: rank = number of negatives.
  const std::vector<float> constant(99, 0.25f);
  EXPECT_EQ(RankOfTarget(0.25f, constant), 99);
  const std::vector<float> zeros(100, 0.0f);
  EXPECT_EQ(RankOfTarget(0.0f, zeros), 100);
  // -0 and +0 compare equal: still a tie.
  EXPECT_EQ(RankOfTarget(-0.0f, {0.0f}), 1);
}

TEST(RankOfTargetTest, NaNTargetRanksLast) {
  EXPECT_EQ(RankOfTarget(kNaN, {0.1f, 0.2f, 0.3f}), 3);
  EXPECT_EQ(RankOfTarget(kNaN, {-kInf, kNaN}), 2);
  EXPECT_EQ(RankOfTarget(kNaN, {}), 0);
}

TEST(RankOfTargetTest, NaNNegativeCountsAgainstTheModel) {
  EXPECT_EQ(RankOfTarget(0.5f, {kNaN, 0.1f}), 1);
}

TEST(RankingAccumulatorTest, EmptyIsZero) {
  RankingAccumulator acc;
  EXPECT_EQ(acc.users(), 0u);
  EXPECT_EQ(acc.hit_rate(), 0.0);
  EXPECT_EQ(acc.ndcg(), 0.0);
}

TEST(RankingAccumulatorTest, SingleRanks) {
  {
    RankingAccumulator acc(10);
    acc.AddRank(0);
    EXPECT_DOUBLE_EQ(acc.hit_rate(), 1.0);
    EXPECT_DOUBLE_EQ(acc.ndcg(), 1.0);  // 1 / log2(2)
  }
  {
    RankingAccumulator acc(10);
    acc.AddRank(1);
    EXPECT_DOUBLE_EQ(acc.hit_rate(), 1.0);
    EXPECT_DOUBLE_EQ(acc.ndcg(), 1.0 / std::log2(3.0));  // 0.6309...
    EXPECT_NEAR(acc.ndcg(), 0.6309297535714575, 1e-12);
  }
  {
    RankingAccumulator acc(10);
    acc.AddRank(9);  // the last position inside the top 10
    EXPECT_DOUBLE_EQ(acc.hit_rate(), 1.0);
    EXPECT_NEAR(acc.ndcg(), 1.0 / std::log2(11.0), 1e-12);
  }
  {
    RankingAccumulator acc(10);
    acc.AddRank(10);  // 11th position: a miss
    EXPECT_EQ(acc.hit_rate(), 0.0);
    EXPECT_EQ(acc.ndcg(), 0.0);
    EXPECT_EQ(acc.users(), 1u);
  }
}

TEST(RankingAccumulatorTest, AveragesOverUsers) {
  RankingAccumulator acc;  // k = 10 by default
  for (int rank : {0, 1, 10, 3, 99}) acc.AddRank(rank);
  EXPECT_EQ(acc.users(), 5u);
  // Hits: ranks 0, 1, 3.
  EXPECT_DOUBLE_EQ(acc.hit_rate(), 3.0 / 5.0);
  // 1 + 1/log2(3) + 1/log2(5) = 1 + 0.63093 + 0.43068 = 2.06161.
  EXPECT_NEAR(acc.ndcg(), (1.0 + 0.6309297535714575 + 0.43067655807339306) / 5, 1e-12);
}

TEST(RankingAccumulatorTest, KIsRespected) {
  RankingAccumulator acc(1);
  acc.AddRank(0);
  acc.AddRank(1);
  EXPECT_DOUBLE_EQ(acc.hit_rate(), 0.5);
  EXPECT_DOUBLE_EQ(acc.ndcg(), 0.5);
}

TEST(RatingAccumulatorTest, EmptyIsZero) {
  RatingAccumulator acc;
  EXPECT_EQ(acc.count(), 0u);
  EXPECT_EQ(acc.rmse(), 0.0);
  EXPECT_EQ(acc.mae(), 0.0);
}

TEST(RatingAccumulatorTest, HandValues) {
  RatingAccumulator acc;
  acc.Add(3.0, 4.0);  // error -1
  acc.Add(2.0, 2.0);  // error  0
  acc.Add(5.0, 3.0);  // error  2
  EXPECT_EQ(acc.count(), 3u);
  // MAE (1 + 0 + 2) / 3 = 1; RMSE sqrt((1 + 0 + 4) / 3) = sqrt(5/3) = 1.29099.
  EXPECT_DOUBLE_EQ(acc.mae(), 1.0);
  EXPECT_NEAR(acc.rmse(), 1.2909944487358056, 1e-12);
}

TEST(RatingAccumulatorTest, SingleError) {
  RatingAccumulator acc;
  acc.Add(3.5, 4.0);
  EXPECT_DOUBLE_EQ(acc.mae(), 0.5);
  EXPECT_DOUBLE_EQ(acc.rmse(), 0.5);
}

}  // namespace
}  // namespace psrec
