#include "coordinator/coordinator_state.h"

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/rpc_util.h"
#include "common/shard_map.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

using ::testing::ElementsAre;

rpc::RunConfig Config() {
  rpc::RunConfig c;
  c.set_model("gmf");
  c.set_dim(16);
  return c;
}

rpc::RegisterRequest Server(const std::string& address) {
  rpc::RegisterRequest r;
  r.set_protocol_version(kProtocolVersion);
  r.set_role(rpc::ROLE_SERVER);
  r.set_address(address);
  return r;
}

rpc::RegisterRequest Worker() {
  rpc::RegisterRequest r;
  r.set_protocol_version(kProtocolVersion);
  r.set_role(rpc::ROLE_WORKER);
  return r;
}

uint32_t RegisterWorker(CoordinatorState& state) {
  auto resp = state.Register(Worker());
  EXPECT_TRUE(resp.ok()) << resp.status();
  return resp->id();
}

rpc::CompleteRequest Complete(uint32_t worker, uint32_t epoch, uint32_t shard,
                              uint64_t examples, double loss_sum) {
  rpc::CompleteRequest r;
  r.set_worker_id(worker);
  r.set_epoch(epoch);
  r.set_shard(shard);
  r.set_examples(examples);
  r.set_loss_sum(loss_sum);
  return r;
}

LeaseOptions Leases(uint32_t epochs, uint32_t shards, bool gated = false) {
  LeaseOptions o;
  o.epochs = epochs;
  o.data_shards = shards;
  o.gated = gated;
  return o;
}

// ---- membership and shard map ----------------------------------------------

TEST(CoordinatorStateTest, ServersRegisterInOrder) {
  CoordinatorState state(Config(), 3, Leases(1, 1));
  const char* addresses[] = {"a:1", "b:2", "c:3"};
  for (uint32_t i = 0; i < 3; ++i) {
    auto resp = state.Register(Server(addresses[i]));
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->id(), i);
    EXPECT_EQ(resp->expected_servers(), 3u);
    EXPECT_EQ(resp->config().model(), "gmf");
    EXPECT_EQ(resp->config().dim(), 16u);
  }
  // Re-registering (a restarted server) keeps the index.
  auto again = state.Register(Server("b:2"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id(), 1u);
  // One server too many.
  auto extra = state.Register(Server("d:4"));
  EXPECT_FALSE(extra.ok());
  EXPECT_EQ(extra.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(state.Status().servers(), 3u);
}

// StatefulSet pods start in any order (podManagementPolicy: Parallel) and
// ask for their ordinal as shard index.
TEST(CoordinatorStateTest, ServersMayAskForTheirShardIndex) {
  CoordinatorState state(Config(), 3, Leases(1, 1));
  auto ask = [](const char* address, uint32_t index) {
    rpc::RegisterRequest r = Server(address);
    r.set_shard_index(index);
    return r;
  };
  auto two = state.Register(ask("s2:1", 2));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->id(), 2u);
  EXPECT_FALSE(state.GetShardMap().ready());
  EXPECT_EQ(state.Register(ask("x:1", 2)).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(state.Register(ask("x:1", 3)).status().code(), absl::StatusCode::kInvalidArgument);
  // A restarted pod (same address) gets its shard back, and only that one.
  EXPECT_EQ(state.Register(ask("s2:1", 2))->id(), 2u);
  EXPECT_EQ(state.Register(ask("s2:1", 0)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A server that asks for nothing takes the first free shard.
  EXPECT_EQ(state.Register(Server("any:1"))->id(), 0u);
  EXPECT_EQ(state.Register(ask("s1:1", 1))->id(), 1u);
  const rpc::ShardMapResponse map = state.GetShardMap();
  ASSERT_TRUE(map.ready());
  ASSERT_EQ(map.map().server_addresses_size(), 3);
  EXPECT_EQ(map.map().server_addresses(0), "any:1");
  EXPECT_EQ(map.map().server_addresses(1), "s1:1");
  EXPECT_EQ(map.map().server_addresses(2), "s2:1");
  EXPECT_EQ(state.Status().servers(), 3u);
}

// With replicas, a server that registers again (restarted by a supervisor
// faster than the heartbeat timeout) is a new, empty process: the backups of
// its shards are promoted, and it joins to copy them back.
TEST(CoordinatorStateTest, ReplicatedServerRegisteringAgainHandsItsShardsToTheirBackups) {
  rpc::RunConfig config = Config();
  config.set_replicas(2);
  CoordinatorState state(config, 3, Leases(1, 2));
  for (const char* a : {"h:1", "h:2", "h:3"}) ASSERT_TRUE(state.Register(Server(a)).ok());
  const rpc::ShardMap before = state.GetShardMap().map();
  ASSERT_EQ(before.shard_primaries(1), 1u);
  const int32_t backup_of_1 = before.shard_backups(1);
  ASSERT_GE(backup_of_1, 0);
  ASSERT_NE(backup_of_1, 1);

  auto again = state.Register(Server("h:2"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id(), 1u);
  const rpc::ShardMap after = state.GetShardMap().map();
  EXPECT_GT(after.version(), before.version());
  EXPECT_EQ(after.shard_primaries(1), static_cast<uint32_t>(backup_of_1));
  for (int s = 0; s < after.shard_primaries_size(); ++s) {
    EXPECT_NE(after.shard_primaries(s), 1u) << "shard " << s << " still led by the empty server";
  }
  EXPECT_EQ(state.Status().promotions(), 1u);
}

TEST(CoordinatorStateTest, ServerNeedsAnAddressAndRequestsNeedARole) {
  CoordinatorState state(Config(), 1, Leases(1, 1));
  EXPECT_EQ(state.Register(Server("")).status().code(), absl::StatusCode::kInvalidArgument);
  rpc::RegisterRequest no_role;
  no_role.set_protocol_version(kProtocolVersion);
  EXPECT_EQ(state.Register(no_role).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CoordinatorStateTest, WorkersGetSequentialIds) {
  CoordinatorState state(Config(), 1, Leases(1, 1));
  EXPECT_EQ(RegisterWorker(state), 0u);
  EXPECT_EQ(RegisterWorker(state), 1u);
  EXPECT_EQ(RegisterWorker(state), 2u);
  EXPECT_EQ(state.Status().workers(), 3u);
}

TEST(CoordinatorStateTest, ProtocolMismatchIsFailedPrecondition) {
  CoordinatorState state(Config(), 1, Leases(1, 1));
  for (uint32_t version : {0u, kProtocolVersion + 1}) {
    rpc::RegisterRequest r = Server("a:1");
    r.set_protocol_version(version);
    auto resp = state.Register(r);
    EXPECT_EQ(resp.status().code(), absl::StatusCode::kFailedPrecondition) << version;
  }
  // Nothing was registered.
  EXPECT_EQ(state.Status().servers(), 0u);
  EXPECT_FALSE(state.GetShardMap().ready());
}

TEST(CoordinatorStateTest, ShardMapReadyOnlyWhenAllServersRegistered) {
  CoordinatorState state(Config(), 3, Leases(1, 1));
  EXPECT_FALSE(state.GetShardMap().ready());
  ASSERT_TRUE(state.Register(Server("a:1")).ok());
  ASSERT_TRUE(state.Register(Server("b:2")).ok());
  EXPECT_FALSE(state.GetShardMap().ready());
  ASSERT_TRUE(state.Register(Server("c:3")).ok());
  rpc::ShardMapResponse resp = state.GetShardMap();
  ASSERT_TRUE(resp.ready());
  EXPECT_GT(resp.map().version(), 0u);
  EXPECT_THAT(resp.map().server_addresses(), ElementsAre("a:1", "b:2", "c:3"));
  // The ring is the pure function of the server count.
  Ring expected = Ring::Build(3);
  EXPECT_EQ(std::vector<uint64_t>(resp.map().ring_positions().begin(),
                                  resp.map().ring_positions().end()),
            expected.positions());
  EXPECT_EQ(std::vector<uint32_t>(resp.map().ring_owners().begin(),
                                  resp.map().ring_owners().end()),
            expected.owners());
  // A re-registration does not change the map.
  const uint64_t version = resp.map().version();
  ASSERT_TRUE(state.Register(Server("c:3")).ok());
  EXPECT_EQ(state.GetShardMap().map().version(), version);
}

// ---- leases ------------------------------------------------------------------

TEST(CoordinatorStateTest, UngatedEpochsLeaseEachShardOnceInOrder) {
  CoordinatorState state(Config(), 1, Leases(2, 3));
  const uint32_t w0 = RegisterWorker(state);
  const uint32_t w1 = RegisterWorker(state);
  std::set<std::pair<uint32_t, uint32_t>> leased;

  // Epoch 0: three leases, then nothing free while they are outstanding.
  std::vector<rpc::LeaseResponse> epoch0;
  for (uint32_t w : {w0, w1, w0}) {
    rpc::LeaseResponse l = state.AcquireLease(w);
    ASSERT_EQ(l.kind(), rpc::LeaseResponse::LEASE);
    EXPECT_EQ(l.epoch(), 0u);
    EXPECT_TRUE(leased.insert({l.epoch(), l.shard()}).second) << "leased twice";
    epoch0.push_back(l);
  }
  rpc::LeaseResponse wait = state.AcquireLease(w1);
  EXPECT_EQ(wait.kind(), rpc::LeaseResponse::WAIT);
  EXPECT_GT(wait.retry_ms(), 0u);

  // Completing two of three does not open epoch 1.
  ASSERT_TRUE(state.CompleteLease(Complete(w0, 0, epoch0[0].shard(), 100, 50.0)).ok());
  ASSERT_TRUE(state.CompleteLease(Complete(w1, 0, epoch0[1].shard(), 200, 40.0)).ok());
  EXPECT_EQ(state.AcquireLease(w1).kind(), rpc::LeaseResponse::WAIT);
  EXPECT_EQ(state.Status().current_epoch(), 0u);
  ASSERT_TRUE(state.CompleteLease(Complete(w0, 0, epoch0[2].shard(), 300, 30.0)).ok());
  EXPECT_EQ(state.Status().current_epoch(), 1u);
  EXPECT_FALSE(state.done());

  // Epoch 1.
  std::vector<rpc::LeaseResponse> epoch1;
  for (uint32_t w : {w1, w0, w1}) {
    rpc::LeaseResponse l = state.AcquireLease(w);
    ASSERT_EQ(l.kind(), rpc::LeaseResponse::LEASE);
    EXPECT_EQ(l.epoch(), 1u);
    EXPECT_TRUE(leased.insert({l.epoch(), l.shard()}).second) << "leased twice";
    epoch1.push_back(l);
  }
  EXPECT_EQ(state.AcquireLease(w0).kind(), rpc::LeaseResponse::WAIT);
  for (const auto& l : epoch1) {
    ASSERT_TRUE(state.CompleteLease(Complete(w0, 1, l.shard(), 10, 2.0)).ok());
  }

  // Every (epoch, shard) exactly once.
  EXPECT_EQ(leased, (std::set<std::pair<uint32_t, uint32_t>>{
                        {0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}}));
  EXPECT_EQ(state.AcquireLease(w0).kind(), rpc::LeaseResponse::DONE);
  EXPECT_EQ(state.AcquireLease(w1).kind(), rpc::LeaseResponse::DONE);
  EXPECT_TRUE(state.done());

  rpc::StatusResponse status = state.Status();
  EXPECT_TRUE(status.done());
  EXPECT_EQ(status.epochs(), 2u);
  ASSERT_EQ(status.history_size(), 2);
  EXPECT_EQ(status.history(0).epoch(), 0u);
  EXPECT_EQ(status.history(0).examples(), 600u);
  EXPECT_DOUBLE_EQ(status.history(0).loss(), 120.0 / 600.0);
  EXPECT_TRUE(status.history(0).complete());
  EXPECT_GE(status.history(0).seconds(), 0.0);
  EXPECT_EQ(status.history(1).epoch(), 1u);
  EXPECT_EQ(status.history(1).examples(), 30u);
  EXPECT_DOUBLE_EQ(status.history(1).loss(), 6.0 / 30.0);
  EXPECT_TRUE(status.history(1).complete());
}

TEST(CoordinatorStateTest, HistoryShowsEpochInProgress) {
  CoordinatorState state(Config(), 1, Leases(3, 2));
  const uint32_t w = RegisterWorker(state);
  EXPECT_EQ(state.Status().history_size(), 0);  // nothing leased yet
  rpc::LeaseResponse l = state.AcquireLease(w);
  ASSERT_EQ(l.kind(), rpc::LeaseResponse::LEASE);
  ASSERT_TRUE(state.CompleteLease(Complete(w, 0, l.shard(), 8, 4.0)).ok());
  rpc::StatusResponse status = state.Status();
  ASSERT_EQ(status.history_size(), 1);
  EXPECT_EQ(status.history(0).examples(), 8u);
  EXPECT_DOUBLE_EQ(status.history(0).loss(), 0.5);
  EXPECT_FALSE(status.history(0).complete());
}

TEST(CoordinatorStateTest, GatedEpochWaitsForTheDriver) {
  CoordinatorState state(Config(), 1, Leases(3, 2, /*gated=*/true));
  const uint32_t w = RegisterWorker(state);
  EXPECT_EQ(state.Status().open_epochs(), 1u);
  for (int i = 0; i < 2; ++i) {
    rpc::LeaseResponse l = state.AcquireLease(w);
    ASSERT_EQ(l.kind(), rpc::LeaseResponse::LEASE);
    EXPECT_EQ(l.epoch(), 0u);
    ASSERT_TRUE(state.CompleteLease(Complete(w, 0, l.shard(), 5, 1.0)).ok());
  }
  // Epoch 0 is done but epoch 1 is not allowed yet.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(state.AcquireLease(w).kind(), rpc::LeaseResponse::WAIT);
  EXPECT_FALSE(state.done());

  state.Gate(2, false);
  EXPECT_EQ(state.Status().open_epochs(), 2u);
  rpc::LeaseResponse l = state.AcquireLease(w);
  ASSERT_EQ(l.kind(), rpc::LeaseResponse::LEASE);
  EXPECT_EQ(l.epoch(), 1u);
  // Gate never closes an epoch it opened.
  state.Gate(1, false);
  EXPECT_EQ(state.Status().open_epochs(), 2u);
  rpc::LeaseResponse l2 = state.AcquireLease(w);
  ASSERT_EQ(l2.kind(), rpc::LeaseResponse::LEASE);
  EXPECT_EQ(l2.epoch(), 1u);
  ASSERT_TRUE(state.CompleteLease(Complete(w, 1, l.shard(), 5, 1.0)).ok());
  ASSERT_TRUE(state.CompleteLease(Complete(w, 1, l2.shard(), 5, 1.0)).ok());
  EXPECT_EQ(state.AcquireLease(w).kind(), rpc::LeaseResponse::WAIT);

  // The driver stops the run early: epoch 2 never runs.
  state.Gate(2, /*stop=*/true);
  EXPECT_EQ(state.AcquireLease(w).kind(), rpc::LeaseResponse::DONE);
  EXPECT_TRUE(state.done());
  EXPECT_TRUE(state.Status().done());
}

TEST(CoordinatorStateTest, StopEndsTheRunEvenWithLeasesOutstanding) {
  CoordinatorState state(Config(), 1, Leases(2, 2));
  const uint32_t w = RegisterWorker(state);
  ASSERT_EQ(state.AcquireLease(w).kind(), rpc::LeaseResponse::LEASE);
  state.Gate(0, /*stop=*/true);
  EXPECT_EQ(state.AcquireLease(w).kind(), rpc::LeaseResponse::DONE);
  EXPECT_TRUE(state.done());
}

TEST(CoordinatorStateTest, SilentWorkerLosesItsLease) {
  LeaseOptions o = Leases(1, 1);
  o.lease_timeout = absl::Milliseconds(50);
  CoordinatorState state(Config(), 1, o);
  const uint32_t silent = RegisterWorker(state);
  const uint32_t alive = RegisterWorker(state);
  rpc::LeaseResponse first = state.AcquireLease(silent);
  ASSERT_EQ(first.kind(), rpc::LeaseResponse::LEASE);
  EXPECT_EQ(state.AcquireLease(alive).kind(), rpc::LeaseResponse::WAIT);

  absl::SleepFor(absl::Milliseconds(150));
  rpc::LeaseResponse second = state.AcquireLease(alive);
  ASSERT_EQ(second.kind(), rpc::LeaseResponse::LEASE);
  EXPECT_EQ(second.epoch(), first.epoch());
  EXPECT_EQ(second.shard(), first.shard());

  ASSERT_TRUE(state.CompleteLease(Complete(alive, 0, 0, 7, 3.5)).ok());
  EXPECT_EQ(state.AcquireLease(alive).kind(), rpc::LeaseResponse::DONE);
  // The silent worker's late report of the same shard is not counted again.
  ASSERT_TRUE(state.CompleteLease(Complete(silent, 0, 0, 7, 3.5)).ok());
  rpc::StatusResponse status = state.Status();
  ASSERT_EQ(status.history_size(), 1);
  EXPECT_EQ(status.history(0).examples(), 7u);
}

// An Indexed Job's replacement pod registers under the dead pod's index: it
// gets that id and the dead pod's lease goes back to the pool at once (no
// wait for the lease timeout), while other workers' leases stay.
TEST(CoordinatorStateTest, WorkerRegisteringUnderItsIndexTakesOverFromADeadOne) {
  CoordinatorState state(Config(), 1, Leases(1, 2));
  rpc::RegisterRequest w3 = Worker();
  w3.set_worker_index(3);
  auto first = state.Register(w3);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->id(), 3u);
  const uint32_t other = RegisterWorker(state);
  EXPECT_EQ(other, 4u);  // new ids come after the highest one known
  rpc::LeaseResponse dead = state.AcquireLease(3);
  ASSERT_EQ(dead.kind(), rpc::LeaseResponse::LEASE);
  rpc::LeaseResponse kept = state.AcquireLease(other);
  ASSERT_EQ(kept.kind(), rpc::LeaseResponse::LEASE);

  auto replacement = state.Register(w3);
  ASSERT_TRUE(replacement.ok());
  EXPECT_EQ(replacement->id(), 3u);
  rpc::LeaseResponse again = state.AcquireLease(3);
  ASSERT_EQ(again.kind(), rpc::LeaseResponse::LEASE);
  EXPECT_EQ(again.shard(), dead.shard());
  // The other worker's lease was not touched: nothing is left to lease.
  EXPECT_EQ(state.AcquireLease(other).kind(), rpc::LeaseResponse::WAIT);

  rpc::RegisterRequest huge = Worker();
  huge.set_worker_index(1u << 20);
  EXPECT_EQ(state.Register(huge).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CoordinatorStateTest, HeartbeatsKeepALease) {
  LeaseOptions o = Leases(1, 1);
  o.lease_timeout = absl::Milliseconds(250);
  CoordinatorState state(Config(), 1, o);
  const uint32_t busy = RegisterWorker(state);
  const uint32_t other = RegisterWorker(state);
  ASSERT_EQ(state.AcquireLease(busy).kind(), rpc::LeaseResponse::LEASE);
  // Three timeouts pass while the holder keeps heartbeating.
  const absl::Time end = absl::Now() + absl::Milliseconds(750);
  while (absl::Now() < end) {
    state.Heartbeat(rpc::ROLE_WORKER, busy);
    EXPECT_EQ(state.AcquireLease(other).kind(), rpc::LeaseResponse::WAIT);
    absl::SleepFor(absl::Milliseconds(10));
  }
}

TEST(CoordinatorStateTest, DuplicateCompleteIsIgnored) {
  CoordinatorState state(Config(), 1, Leases(1, 2));
  const uint32_t w = RegisterWorker(state);
  rpc::LeaseResponse a = state.AcquireLease(w);
  rpc::LeaseResponse b = state.AcquireLease(w);
  ASSERT_EQ(a.kind(), rpc::LeaseResponse::LEASE);
  ASSERT_EQ(b.kind(), rpc::LeaseResponse::LEASE);
  ASSERT_TRUE(state.CompleteLease(Complete(w, 0, a.shard(), 10, 1.0)).ok());
  ASSERT_TRUE(state.CompleteLease(Complete(w, 0, a.shard(), 10, 1.0)).ok());
  // Still one shard to go: the duplicate did not count as the second shard.
  EXPECT_FALSE(state.done());
  EXPECT_EQ(state.Status().history(0).examples(), 10u);
  ASSERT_TRUE(state.CompleteLease(Complete(w, 0, b.shard(), 20, 3.0)).ok());
  EXPECT_TRUE(state.done());
  rpc::StatusResponse status = state.Status();
  EXPECT_EQ(status.history(0).examples(), 30u);
  EXPECT_DOUBLE_EQ(status.history(0).loss(), 4.0 / 30.0);
}

TEST(CoordinatorStateTest, CompleteOutOfRangeIsInvalidArgument) {
  CoordinatorState state(Config(), 1, Leases(2, 3));
  const uint32_t w = RegisterWorker(state);
  EXPECT_EQ(state.CompleteLease(Complete(w, 2, 0, 1, 1.0)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(state.CompleteLease(Complete(w, 0, 3, 1, 1.0)).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace psrec

// ---- in-epoch progress, worker and server status, lease counters -------------

namespace psrec {
namespace {

rpc::LeaseProgress Progress(uint32_t epoch, uint32_t shard, uint64_t done, uint64_t total) {
  rpc::LeaseProgress p;
  p.set_leased(true);
  p.set_epoch(epoch);
  p.set_shard(shard);
  p.set_examples_done(done);
  p.set_shard_examples(total);
  return p;
}

TEST(CoordinatorStateProgressTest, HeartbeatsMoveTheEpochWithinAShard) {
  CoordinatorState state(Config(), 1, Leases(2, 4));
  const uint32_t w0 = RegisterWorker(state);
  const uint32_t w1 = RegisterWorker(state);
  const rpc::LeaseResponse a = state.AcquireLease(w0);
  const rpc::LeaseResponse b = state.AcquireLease(w1);
  state.Heartbeat(rpc::ROLE_WORKER, w0, Progress(0, a.shard(), 30, 100));
  state.Heartbeat(rpc::ROLE_WORKER, w1, Progress(0, b.shard(), 10, 300));
  rpc::StatusResponse s = state.Status();
  ASSERT_EQ(s.history_size(), 1);
  EXPECT_EQ(s.history(0).examples_so_far(), 40u);
  // Two shards of 100 and 300 examples seen: 4 shards make about 800.
  EXPECT_EQ(s.history(0).expected_examples(), 800u);
  EXPECT_EQ(s.history(0).done_shards(), 0u);
  EXPECT_EQ(s.history(0).data_shards(), 4u);
  ASSERT_EQ(s.worker_status_size(), 2);
  EXPECT_TRUE(s.worker_status(0).progress().leased());
  EXPECT_EQ(s.worker_status(0).progress().examples_done(), 30u);
  EXPECT_TRUE(s.worker_status(0).alive());

  // A completed shard counts once, by its reported examples.
  ASSERT_TRUE(state.CompleteLease(Complete(w0, 0, a.shard(), 100, 50.0)).ok());
  s = state.Status();
  EXPECT_EQ(s.history(0).examples_so_far(), 110u);
  EXPECT_FALSE(s.worker_status(0).progress().leased());
  EXPECT_EQ(s.worker_status(0).shards_completed(), 1u);
  EXPECT_EQ(s.worker_status(0).examples_completed(), 100u);

  // Finish epoch 0 (400 examples); epoch 1 expects as many.
  ASSERT_TRUE(state.CompleteLease(Complete(w1, 0, b.shard(), 100, 50.0)).ok());
  for (int i = 0; i < 2; ++i) {
    const rpc::LeaseResponse l = state.AcquireLease(w0);
    ASSERT_EQ(l.epoch(), 0u);
    ASSERT_TRUE(state.CompleteLease(Complete(w0, 0, l.shard(), 100, 50.0)).ok());
  }
  const rpc::LeaseResponse c = state.AcquireLease(w0);
  ASSERT_EQ(c.epoch(), 1u);
  state.Heartbeat(rpc::ROLE_WORKER, w0, Progress(1, c.shard(), 25, 100));
  s = state.Status();
  ASSERT_EQ(s.history_size(), 2);
  EXPECT_EQ(s.history(1).examples_so_far(), 25u);
  EXPECT_EQ(s.history(1).expected_examples(), 400u);
  EXPECT_EQ(s.history(0).expected_examples(), 400u);

  const LeaseCounters counters = state.lease_counters();
  EXPECT_EQ(counters.granted, 5u);
  EXPECT_EQ(counters.completed, 4u);
  EXPECT_EQ(counters.expired, 0u);
}

TEST(CoordinatorStateProgressTest, StatusListsServersWithTheirMetricsPorts) {
  CoordinatorState state(Config(), 2, Leases(1, 1));
  rpc::RegisterRequest s0 = Server("h0:1");
  s0.set_metrics_port(9100);
  ASSERT_TRUE(state.Register(s0).ok());
  ASSERT_TRUE(state.Register(Server("h1:1")).ok());
  state.set_metrics_port(9000);
  const rpc::StatusResponse s = state.Status();
  EXPECT_EQ(s.metrics_port(), 9000u);
  EXPECT_EQ(s.expected_servers(), 2u);
  ASSERT_EQ(s.server_status_size(), 2);
  EXPECT_EQ(s.server_status(0).address(), "h0:1");
  EXPECT_EQ(s.server_status(0).metrics_port(), 9100u);
  EXPECT_EQ(s.server_status(1).metrics_port(), 0u);
  EXPECT_EQ(s.map().server_addresses_size(), 2);  // for ring shares
  EXPECT_EQ(s.model(), "gmf");
}

}  // namespace
}  // namespace psrec
