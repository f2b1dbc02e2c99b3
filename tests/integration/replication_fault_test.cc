// Label `fault`: one kill of a primary under --replicas=2 loses no
// acknowledged push and applies none twice.
#include "tests/integration/replication_fault.h"

namespace psrec {
namespace {

TEST(ReplicationFaultTest, KilledPrimaryLosesNoAcknowledgedPush) {
  auto r = testing_util::RunCountingFault(/*victim=*/1, /*kill_after_pushes=*/150, /*seed=*/1);
  EXPECT_GT(r.acknowledged, 300u);
  EXPECT_EQ(r.unacknowledged, 0u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.extra, 0u);
  EXPECT_GT(r.seconds_to_promotion, 0);
}

// SIGSTOP instead of SIGKILL: the old primary is cut off, its backup is
// promoted, and then it runs again with pushes of the old map in hand. The
// new primary refuses its forwards (older map version), so none of them is
// acknowledged unless the new primary applied it.
TEST(ReplicationFaultTest, PausedOldPrimaryIsFencedOff) {
  auto r = testing_util::RunCountingFault(/*victim=*/0, /*kill_after_pushes=*/100, /*seed=*/2,
                                          /*pause=*/true);
  EXPECT_EQ(r.unacknowledged, 0u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.extra, 0u);
}

// Re-replication: a server joins after the first kill and copies both
// degraded shards while pushes continue; then the server that took the
// victim's shard over dies too, and the joiner's copies are promoted.
TEST(ReplicationFaultTest, JoinedServerCopiesDegradedShardsAndTakesOver) {
  auto r = testing_util::RunCountingFault(/*victim=*/2, /*kill_after_pushes=*/100, /*seed=*/3,
                                          /*pause=*/false, /*rejoin=*/true);
  EXPECT_TRUE(r.rejoined);
  EXPECT_EQ(r.unacknowledged, 0u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.extra, 0u);
}

}  // namespace
}  // namespace psrec
