#include "server/push_dedup.h"

#include <gtest/gtest.h>

namespace psrec {
namespace {

using Claim = PushDedupWindow::Claim;

TEST(PushDedupWindowTest, RetryOfAnAppliedPushIsADuplicate) {
  PushDedupWindow w;
  EXPECT_EQ(w.TryClaim(1, 100), Claim::kNew);
  EXPECT_EQ(w.TryClaim(1, 100), Claim::kDuplicate);
  // Another worker's seq 100 is another push.
  EXPECT_EQ(w.TryClaim(2, 100), Claim::kNew);
  EXPECT_EQ(w.workers(), 2u);
}

TEST(PushDedupWindowTest, OutOfOrderSeqsInsideTheWindowAreEachAppliedOnce) {
  PushDedupWindow w;
  EXPECT_EQ(w.TryClaim(1, 1000), Claim::kNew);
  EXPECT_EQ(w.TryClaim(1, 998), Claim::kNew);  // an earlier call of the same Push, late
  EXPECT_EQ(w.TryClaim(1, 1003), Claim::kNew);
  EXPECT_EQ(w.TryClaim(1, 998), Claim::kDuplicate);
  EXPECT_EQ(w.TryClaim(1, 999), Claim::kNew);
  EXPECT_EQ(w.TryClaim(1, 1000), Claim::kDuplicate);
  EXPECT_EQ(w.TryClaim(1, 1003), Claim::kDuplicate);
}

TEST(PushDedupWindowTest, SeqsOlderThanTheWindowAreRefusedNotReapplied) {
  PushDedupWindow w;
  EXPECT_EQ(w.TryClaim(1, 10), Claim::kNew);
  const uint64_t newest = 10 + PushDedupWindow::kWindow;
  EXPECT_EQ(w.TryClaim(1, newest), Claim::kNew);
  EXPECT_EQ(w.TryClaim(1, 10), Claim::kTooOld);
  EXPECT_EQ(w.TryClaim(1, newest - PushDedupWindow::kWindow + 1), Claim::kNew);
  // A jump far ahead forgets everything below the new window.
  EXPECT_EQ(w.TryClaim(1, newest + 10 * PushDedupWindow::kWindow), Claim::kNew);
  EXPECT_EQ(w.TryClaim(1, newest), Claim::kTooOld);
}

TEST(PushDedupWindowTest, ReleasedClaimCanBeAppliedAgain) {
  PushDedupWindow w;
  EXPECT_EQ(w.TryClaim(3, 50), Claim::kNew);
  EXPECT_EQ(w.TryClaim(3, 51), Claim::kNew);
  w.Release(3, 50);  // applying it failed
  EXPECT_EQ(w.TryClaim(3, 50), Claim::kNew);
  EXPECT_EQ(w.TryClaim(3, 51), Claim::kDuplicate);
}

}  // namespace
}  // namespace psrec
