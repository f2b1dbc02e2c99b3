#include "coordinator/coordinator_snapshot.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "common/rpc_util.h"
#include "coordinator/checkpoint_rounds.h"
#include "coordinator/coordinator_state.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

rpc::RunConfig Config() {
  rpc::RunConfig c;
  c.set_model("gmf");
  c.set_task("ranking");
  c.set_negatives(4);
  c.set_num_interactions(100);
  c.set_epochs(2);
  c.set_data_shards(3);
  return c;
}

LeaseOptions Leases() {
  LeaseOptions o;
  o.epochs = 2;
  o.data_shards = 3;
  return o;
}

std::string TempPath(const std::string& name) {
  const std::string dir = std::filesystem::path(::testing::TempDir()) / "coordinator_snapshot_test";
  std::filesystem::create_directories(dir);
  return dir + "/" + name;
}

rpc::RegisterRequest Registration(rpc::Role role, const std::string& address = "") {
  rpc::RegisterRequest r;
  r.set_protocol_version(kProtocolVersion);
  r.set_role(role);
  r.set_address(address);
  return r;
}

// Two workers; shard 0 completed, shard 1 leased, shard 2 pending.
void Progress(CoordinatorState* s) {
  ASSERT_TRUE(s->Register(Registration(rpc::ROLE_SERVER, "127.0.0.1:1")).ok());
  const rpc::RegisterRequest worker = Registration(rpc::ROLE_WORKER);
  ASSERT_TRUE(s->Register(worker).ok());
  ASSERT_TRUE(s->Register(worker).ok());
  ASSERT_EQ(s->AcquireLease(0).shard(), 0u);
  ASSERT_EQ(s->AcquireLease(1).shard(), 1u);
  rpc::CompleteRequest done;
  done.set_worker_id(0);
  done.set_epoch(0);
  done.set_shard(0);
  done.set_examples(170);
  done.set_loss_sum(17);
  ASSERT_TRUE(s->CompleteLease(done).ok());
  ASSERT_TRUE(s->CompleteLease(done).ok());  // a duplicate completion
}

TEST(CoordinatorSnapshot, RestartKeepsProgressAndMembershipAndFreesLeases) {
  CoordinatorState a(Config(), 1, Leases());
  Progress(&a);
  const std::string path = TempPath("state.pscs");
  ASSERT_TRUE(WriteCoordinatorSnapshot(path, a.Snapshot()).ok());
  auto snap = ReadCoordinatorSnapshot(path);
  ASSERT_TRUE(snap.ok()) << snap.status();

  CoordinatorState b(Config(), 1, Leases());
  ASSERT_TRUE(b.Restore(*snap, /*keep_membership=*/true).ok());
  EXPECT_TRUE(b.GetShardMap().ready());
  EXPECT_EQ(b.Status().workers(), 2u);
  // Shard 1 was leased: pending again. Shard 0 stays done.
  EXPECT_EQ(b.AcquireLease(1).shard(), 1u);
  EXPECT_EQ(b.AcquireLease(0).shard(), 2u);
  rpc::StatusResponse status;
  b.FillCoverage(&status);
  ASSERT_EQ(status.coverage_size(), 1);
  EXPECT_EQ(status.coverage(0).examples_once(), 170u);
  EXPECT_EQ(status.coverage(0).duplicate_examples(), 170u);
  EXPECT_EQ(status.coverage(0).expected_examples(), 500u);  // 100 positives x (1 + 4)
}

// Servers and workers that outlive a coordinator's restart keep checking
// the run id they registered with (common/run_fence.h).
TEST(CoordinatorSnapshot, ARestartedCoordinatorKeepsTheRunId) {
  CoordinatorState a(Config(), 1, Leases());
  Progress(&a);
  const rpc::ShardMapResponse map = a.GetShardMap();
  ASSERT_TRUE(map.ready());
  const uint64_t run = map.map().run_id();
  EXPECT_NE(run, 0u);
  const rpc::RegisterRequest worker = Registration(rpc::ROLE_WORKER);
  auto reg = a.Register(worker);
  ASSERT_TRUE(reg.ok());
  EXPECT_EQ(reg->run_id(), run);

  CoordinatorState other(Config(), 1, Leases());
  Progress(&other);
  EXPECT_NE(other.GetShardMap().map().run_id(), run) << "two runs share an id";

  const std::string path = TempPath("run_id.pscs");
  ASSERT_TRUE(WriteCoordinatorSnapshot(path, a.Snapshot()).ok());
  auto snap = ReadCoordinatorSnapshot(path);
  ASSERT_TRUE(snap.ok()) << snap.status();
  CoordinatorState restarted(Config(), 1, Leases());
  ASSERT_TRUE(restarted.Restore(*snap, /*keep_membership=*/true).ok());
  EXPECT_EQ(restarted.GetShardMap().map().run_id(), run);
  auto again = restarted.Register(worker);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->run_id(), run);

  // A resumed run starts everyone afresh: a new id, so the crashed run's
  // stragglers are refused.
  CoordinatorState resumed(Config(), 1, Leases());
  ASSERT_TRUE(resumed.Restore(*snap, /*keep_membership=*/false).ok());
  ASSERT_TRUE(resumed.Register(Registration(rpc::ROLE_SERVER, "127.0.0.1:2")).ok());
  ASSERT_TRUE(resumed.GetShardMap().ready());
  EXPECT_NE(resumed.GetShardMap().map().run_id(), run);
}

TEST(CoordinatorSnapshot, ResumeStartsMembershipAfresh) {
  CoordinatorState a(Config(), 1, Leases());
  Progress(&a);
  CoordinatorState b(Config(), 1, Leases());
  ASSERT_TRUE(b.Restore(a.Snapshot(), /*keep_membership=*/false).ok());
  EXPECT_FALSE(b.GetShardMap().ready());
  EXPECT_EQ(b.Status().workers(), 0u);
  EXPECT_EQ(b.Status().history(0).done_shards(), 1u);
}

TEST(CoordinatorSnapshot, TornOrDamagedFileIsDataLoss) {
  CoordinatorState a(Config(), 1, Leases());
  Progress(&a);
  const std::string path = TempPath("damaged.pscs");
  ASSERT_TRUE(WriteCoordinatorSnapshot(path, a.Snapshot()).ok());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes.substr(0, bytes.size() - 5);
  }
  EXPECT_TRUE(absl::IsDataLoss(ReadCoordinatorSnapshot(path).status()));
  bytes[30] ^= 1;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  auto r = ReadCoordinatorSnapshot(path);
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
}

TEST(CoordinatorSnapshot, ConfigDifferencesNameTheFields) {
  rpc::RunConfig a = Config(), b = Config();
  EXPECT_TRUE(ConfigDifferences(a, b).empty());
  b.set_lr(0.5f);
  b.set_model("neumf");
  b.set_item_ids("xyz");  // dataset facts left out of saved states
  EXPECT_EQ(ConfigDifferences(a, b), (std::vector<std::string>{"model", "lr"}));
}

TEST(CoordinatorSnapshot, HeldLeasesAreNotGranted) {
  CoordinatorState s(Config(), 1, Leases());
  Progress(&s);
  EXPECT_EQ(s.OutstandingLeases(), 1u);
  s.HoldLeases(true);
  EXPECT_EQ(s.AcquireLease(0).kind(), rpc::LeaseResponse::WAIT);
  s.HoldLeases(false);
  EXPECT_EQ(s.AcquireLease(0).kind(), rpc::LeaseResponse::LEASE);
}

TEST(CoordinatorSnapshot, CheckpointEveryTakesBatchesSecondsOrOff) {
  CheckpointOptions o;
  o.dir = "d";
  ASSERT_TRUE(ParseCheckpointEvery("500", &o).ok());
  EXPECT_EQ(o.every_batches, 500u);
  ASSERT_TRUE(ParseCheckpointEvery("2.5s", &o).ok());
  EXPECT_EQ(o.every_batches, 0u);
  EXPECT_EQ(o.every, absl::Milliseconds(2500));
  for (const char* bad : {"", "s", "-3", "1.5", "10m", "0"}) {
    EXPECT_FALSE(ParseCheckpointEvery(bad, &o).ok()) << bad;
  }
  EXPECT_TRUE(o.rounds);
  // off: no rounds, but the directory stays for the coordinator's live state.
  ASSERT_TRUE(ParseCheckpointEvery("off", &o).ok());
  EXPECT_FALSE(o.rounds);
  EXPECT_EQ(o.dir, "d");
}

}  // namespace
}  // namespace psrec
