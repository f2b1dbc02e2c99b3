// Label `fault-long`: the replication fault scenario over several seeds,
// victims and kill points (make test-faults).
#include "tests/integration/replication_fault.h"

namespace psrec {
namespace {

class ReplicationFaultLongTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(ReplicationFaultLongTest, KilledServerLosesNoAcknowledgedPush) {
  const uint32_t seed = GetParam();
  std::mt19937 rng(seed);
  const uint32_t victim = rng() % 3;
  const int kill_after = 20 + static_cast<int>(rng() % 400);
  auto r = testing_util::RunCountingFault(victim, kill_after, seed);
  EXPECT_EQ(r.unacknowledged, 0u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.extra, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ReplicationFaultLongTest, ::testing::Range(1u, 7u));

}  // namespace
}  // namespace psrec
