#include "cli/best_epoch.h"

#include "gtest/gtest.h"

namespace psrec {
namespace {

EvalResult Hr(double hr) {
  EvalResult r;
  r.hr_at_10 = hr;
  return r;
}
EvalResult Rmse(double rmse) {
  EvalResult r;
  r.rmse = rmse;
  return r;
}

TEST(BestEpochTrackerTest, RankingKeepsTheHighestHrAndStopsAfterPatience) {
  BestEpochTracker t("ranking", 2);
  EXPECT_FALSE(t.best_epoch().has_value());
  EXPECT_TRUE(t.Record(0, Hr(0.3)));
  EXPECT_TRUE(t.Record(1, Hr(0.5)));
  EXPECT_FALSE(t.Record(2, Hr(0.5)));  // equal is not an improvement
  EXPECT_FALSE(t.PatienceExhausted());
  EXPECT_FALSE(t.Record(3, Hr(0.4)));
  EXPECT_TRUE(t.PatienceExhausted());
  EXPECT_EQ(t.best_epoch(), 1u);
  EXPECT_STREQ(t.metric_name(), "HR@10");
}

TEST(BestEpochTrackerTest, RatingKeepsTheLowestRmse) {
  BestEpochTracker t("rating", 1);
  EXPECT_TRUE(t.Record(0, Rmse(1.2)));
  EXPECT_TRUE(t.Record(1, Rmse(1.0)));
  EXPECT_FALSE(t.PatienceExhausted());
  EXPECT_FALSE(t.Record(2, Rmse(1.1)));
  EXPECT_TRUE(t.PatienceExhausted());
  EXPECT_EQ(t.best_epoch(), 1u);
  EXPECT_STREQ(t.metric_name(), "RMSE");
}

TEST(BestEpochTrackerTest, ZeroPatienceNeverStops) {
  BestEpochTracker t("ranking", 0);
  t.Record(0, Hr(0.9));
  for (uint32_t e = 1; e < 50; ++e) EXPECT_FALSE(t.Record(e, Hr(0.1)));
  EXPECT_FALSE(t.PatienceExhausted());
  EXPECT_EQ(t.best_epoch(), 0u);
}

}  // namespace
}  // namespace psrec
