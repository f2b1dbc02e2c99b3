#include "coordinator/clock_table.h"

#include "gtest/gtest.h"

namespace psrec {
namespace {

TEST(ClockTableTest, BspMovesInLockstep) {
  ClockTable t(/*allowed_lead=*/0);
  t.StartEpoch(0, {0, 1});
  EXPECT_TRUE(t.MayStart(0, 0));
  EXPECT_TRUE(t.MayStart(1, 0));
  t.Finish(0, 0);
  // Worker 1 has not finished clock 0: worker 0 may not start clock 1.
  EXPECT_FALSE(t.MayStart(0, 1));
  t.Finish(1, 0);
  EXPECT_TRUE(t.MayStart(0, 1));
  EXPECT_TRUE(t.MayStart(1, 1));
  EXPECT_EQ(t.clock(0), 1u);
  EXPECT_EQ(t.Spread(), 0u);
}

TEST(ClockTableTest, SspLetsTheFastestRunAtMostStalenessAhead) {
  ClockTable t(/*allowed_lead=*/2);
  t.StartEpoch(0, {0, 1, 2});
  for (uint64_t c = 0; c < 2; ++c) {
    ASSERT_TRUE(t.MayStart(0, c));
    t.RecordStart(0, c);
    t.Finish(0, c);
  }
  // Workers 1 and 2 are still on clock 0: worker 0 may start clock 2, not 3.
  EXPECT_TRUE(t.MayStart(0, 2));
  t.RecordStart(0, 2);
  t.Finish(0, 2);
  EXPECT_FALSE(t.MayStart(0, 3));
  EXPECT_EQ(t.max_ahead(), 2u);
  EXPECT_EQ(t.Spread(), 3u);
  t.Finish(1, 0);
  EXPECT_FALSE(t.MayStart(0, 3)) << "worker 2 is still the slowest";
  t.Finish(2, 0);
  EXPECT_TRUE(t.MayStart(0, 3));
}

TEST(ClockTableTest, AWorkerThatLeftHoldsNobodyBack) {
  ClockTable t(0);
  t.StartEpoch(0, {0, 1});
  t.Finish(0, 0);
  EXPECT_FALSE(t.MayStart(0, 1));
  EXPECT_TRUE(t.Leave(1));
  EXPECT_FALSE(t.Leave(1)) << "already out";
  EXPECT_FALSE(t.InBarrier(1));
  EXPECT_TRUE(t.MayStart(0, 1));
  EXPECT_TRUE(t.MayStart(0, 100)) << "alone in the barrier";
  EXPECT_EQ(t.Spread(), 0u);
}

TEST(ClockTableTest, ComingBackStartsAtTheSlowestMembersClock) {
  ClockTable t(0);
  t.StartEpoch(0, {0, 1, 2});
  t.Leave(2);
  for (uint64_t c = 0; c < 5; ++c) {
    t.Finish(0, c);
    t.Finish(1, c);
  }
  t.Finish(0, 5);
  // Worker 2 ticked empty clocks while out: it rejoins at the slowest (5).
  EXPECT_EQ(t.Enter(2), 5u);
  EXPECT_TRUE(t.InBarrier(2));
  EXPECT_EQ(t.Enter(2), 5u) << "entering twice changes nothing";
  EXPECT_FALSE(t.MayStart(0, 6));
  t.Finish(1, 5);
  EXPECT_FALSE(t.MayStart(0, 6)) << "now worker 2 holds it back";
  t.Finish(2, 5);
  EXPECT_TRUE(t.MayStart(0, 6));
}

TEST(ClockTableTest, RepeatedReportsAreIdempotentAndEpochsRestartAtZero) {
  ClockTable t(1);
  EXPECT_FALSE(t.epoch().has_value());
  t.StartEpoch(0, {0, 1});
  t.Finish(0, 3);
  t.Finish(0, 1);  // an old report, asked again
  EXPECT_EQ(t.clock(0), 4u);
  t.AddWait(0, 0.5);
  t.AddWait(0, 0.25);
  t.StartEpoch(1, {1});
  EXPECT_EQ(*t.epoch(), 1u);
  EXPECT_EQ(t.clock(0), 0u);
  EXPECT_FALSE(t.InBarrier(0));
  EXPECT_TRUE(t.InBarrier(1));
  EXPECT_DOUBLE_EQ(t.wait_seconds(0), 0.75) << "waits add up over the run";
  EXPECT_EQ(t.clock(7), 0u) << "unknown ids read as 0";
}

}  // namespace
}  // namespace psrec
