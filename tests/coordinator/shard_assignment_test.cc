#include "coordinator/shard_assignment.h"

#include <gtest/gtest.h>

namespace psrec {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1000);

TEST(ShardAssignmentTest, EachShardIsBackedUpByItsRingNeighbour) {
  ShardAssignment a(3, 2, kStart);
  for (uint32_t j = 0; j < 3; ++j) {
    EXPECT_EQ(a.primary(j), j);
    EXPECT_EQ(a.backup(j), static_cast<int32_t>((j + 1) % 3));
  }
  EXPECT_EQ(a.degraded_shards(), 0u);
  rpc::ShardMap m;
  a.FillMap(&m);
  EXPECT_EQ(m.replicas(), 2u);
  EXPECT_EQ(m.shard_primaries_size(), 3);
  EXPECT_EQ(m.shard_backups(2), 0);
}

TEST(ShardAssignmentTest, WithoutReplicationThereAreNoBackupsAndNothingIsDegraded) {
  ShardAssignment a(3, 1, kStart);
  EXPECT_EQ(a.backup(0), ShardAssignment::kNone);
  EXPECT_EQ(a.degraded_shards(), 0u);
}

TEST(ShardAssignmentTest, DeadPrimaryIsReplacedByItsBackup) {
  ShardAssignment a(3, 2, kStart);
  EXPECT_TRUE(a.ServerDied(1));
  EXPECT_EQ(a.primary(1), 2u);  // promoted
  EXPECT_EQ(a.backup(1), ShardAssignment::kNone);
  EXPECT_EQ(a.backup(0), ShardAssignment::kNone);  // server 1 backed up shard 0
  EXPECT_EQ(a.primary(0), 0u);
  EXPECT_EQ(a.backup(2), 0);  // untouched
  EXPECT_EQ(a.promotions(), 1u);
  EXPECT_EQ(a.degraded_shards(), 2u);
  EXPECT_EQ(a.lost_shards(), 0u);
  EXPECT_EQ(a.PrimariesOn(2), 2u);
  EXPECT_FALSE(a.ServerDied(1));  // already dead: no change
}

TEST(ShardAssignmentTest, SecondDeathWithoutBackupLosesTheShard) {
  ShardAssignment a(3, 2, kStart);
  a.ServerDied(1);
  // Server 2 held shard 1 (promoted, no backup) and shard 2 (backed up by 0).
  a.ServerDied(2);
  EXPECT_EQ(a.lost_shards(), 1u);
  EXPECT_EQ(a.primary(2), 0u);
  EXPECT_EQ(a.promotions(), 2u);
  EXPECT_EQ(a.degraded_shards(), 2u);  // shards 0 and 2, both on server 0
}

TEST(ShardAssignmentTest, SilentServerIsDeclaredDeadAfterTheTimeout) {
  ShardAssignment a(3, 2, kStart);
  const absl::Duration timeout = absl::Seconds(5);
  a.Seen(0, kStart + absl::Seconds(4));
  a.Seen(2, kStart + absl::Seconds(4));
  EXPECT_FALSE(a.ExpireSilent(kStart + absl::Seconds(5), timeout));
  EXPECT_TRUE(a.ExpireSilent(kStart + absl::Seconds(6), timeout));
  EXPECT_FALSE(a.alive(1));
  EXPECT_TRUE(a.alive(0));
  EXPECT_EQ(a.primary(1), 2u);
}

TEST(ShardAssignmentTest, FailedBackupLeavesTheChainOnce) {
  ShardAssignment a(3, 2, kStart);
  EXPECT_TRUE(a.DropBackup(0, 1));
  EXPECT_FALSE(a.DropBackup(0, 1));  // a second report of the same failure
  EXPECT_FALSE(a.DropBackup(2, 1));  // not shard 2's backup
  EXPECT_EQ(a.degraded_shards(), 1u);
  EXPECT_EQ(a.promotions(), 0u);
}

}  // namespace
}  // namespace psrec
