// CoordinatorState under ssp and bsp: the fixed shard assignment, the clock
// barrier, workers leaving it when done or dead.
#include <thread>

#include "absl/time/clock.h"
#include "common/rpc_util.h"
#include "coordinator/coordinator_state.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

rpc::RunConfig Config(const std::string& consistency, uint32_t staleness = 0) {
  rpc::RunConfig c;
  c.set_model("gmf");
  c.set_consistency(consistency);
  c.set_staleness(staleness);
  return c;
}

LeaseOptions Leases(uint32_t workers, uint32_t shards, absl::Duration timeout = absl::Seconds(30)) {
  LeaseOptions l;
  l.epochs = 2;
  l.data_shards = shards;
  l.workers = workers;
  l.lease_timeout = timeout;
  return l;
}

uint32_t RegisterWorker(CoordinatorState& state) {
  rpc::RegisterRequest r;
  r.set_protocol_version(kProtocolVersion);
  r.set_role(rpc::ROLE_WORKER);
  auto resp = state.Register(r);
  EXPECT_TRUE(resp.ok()) << resp.status();
  return resp->id();
}

void Complete(CoordinatorState& state, uint32_t worker, uint32_t epoch, uint32_t shard) {
  rpc::CompleteRequest r;
  r.set_worker_id(worker);
  r.set_epoch(epoch);
  r.set_shard(shard);
  r.set_examples(10);
  ASSERT_TRUE(state.CompleteLease(r).ok());
}

rpc::ClockRequest ClockOf(uint32_t worker, uint32_t epoch, uint64_t clock) {
  rpc::ClockRequest r;
  r.set_worker_id(worker);
  r.set_epoch(epoch);
  r.set_clock(clock);
  return r;
}

// As the worker's client does: asks again until the barrier says go.
void FinishClock(CoordinatorState& state, uint32_t worker, uint32_t epoch, uint64_t clock) {
  while (!state.Clock(ClockOf(worker, epoch, clock)).proceed()) {
  }
}

TEST(ConsistencyLeasesTest, BspWaitsForEveryWorkerThenLeasesOwnShardsInOrder) {
  CoordinatorState state(Config("bsp"), 1, Leases(2, 5));
  const uint32_t w0 = RegisterWorker(state);
  EXPECT_EQ(state.AcquireLease(w0).kind(), rpc::LeaseResponse::WAIT)
      << "worker 1 has not registered yet";
  const uint32_t w1 = RegisterWorker(state);
  // Worker w owns shards s with s % 2 == w, in increasing order.
  for (uint32_t want : {0u, 2u, 4u}) {
    rpc::LeaseResponse l = state.AcquireLease(w0);
    ASSERT_EQ(l.kind(), rpc::LeaseResponse::LEASE);
    EXPECT_EQ(l.shard(), want);
    EXPECT_EQ(l.clock(), 0u) << "nobody finished a clock yet";
    Complete(state, w0, 0, want);
  }
  EXPECT_EQ(state.AcquireLease(w0).kind(), rpc::LeaseResponse::WAIT)
      << "worker 1's shards stay worker 1's";
  for (uint32_t want : {1u, 3u}) {
    rpc::LeaseResponse l = state.AcquireLease(w1);
    ASSERT_EQ(l.kind(), rpc::LeaseResponse::LEASE);
    EXPECT_EQ(l.shard(), want);
    Complete(state, w1, 0, want);
  }
  EXPECT_EQ(state.Status().consistency(), "bsp");
}

TEST(ConsistencyLeasesTest, BspClockBlocksUntilTheOtherWorkerFinishesTheClock) {
  CoordinatorState state(Config("bsp"), 1, Leases(2, 2));
  const uint32_t w0 = RegisterWorker(state), w1 = RegisterWorker(state);
  ASSERT_EQ(state.AcquireLease(w0).kind(), rpc::LeaseResponse::LEASE);
  ASSERT_EQ(state.AcquireLease(w1).kind(), rpc::LeaseResponse::LEASE);
  // Alone, worker 0's report of clock 0 is answered "wait" after its time.
  EXPECT_FALSE(state.Clock(ClockOf(w0, 0, 0)).proceed());
  std::thread other([&] { FinishClock(state, w0, 0, 0); });
  FinishClock(state, w1, 0, 0);
  other.join();
  const rpc::StatusResponse s = state.Status();
  ASSERT_EQ(s.worker_status_size(), 2);
  EXPECT_EQ(s.worker_status(0).clock(), 1u);
  EXPECT_EQ(s.worker_status(1).clock(), 1u);
  EXPECT_GT(s.worker_status(0).clock_wait_seconds(), 0.0);
  EXPECT_EQ(s.max_clock_ahead(), 0u);
  EXPECT_EQ(s.clock_spread(), 0u);
}

TEST(ConsistencyLeasesTest, AWorkerDoneWithItsShardsLeavesTheBarrier) {
  CoordinatorState state(Config("bsp"), 1, Leases(2, 2));
  const uint32_t w0 = RegisterWorker(state), w1 = RegisterWorker(state);
  ASSERT_EQ(state.AcquireLease(w0).shard(), 0u);
  ASSERT_EQ(state.AcquireLease(w1).shard(), 1u);
  EXPECT_FALSE(state.Clock(ClockOf(w0, 0, 0)).proceed()) << "worker 1 is on clock 0";
  // Worker 1's only shard was empty (no batches): done, it leaves the barrier.
  Complete(state, w1, 0, 1);
  rpc::StatusResponse s = state.Status();
  EXPECT_FALSE(s.worker_status(1).in_barrier());
  EXPECT_TRUE(s.worker_status(0).in_barrier());
  // Worker 0 is alone now: every clock goes through at once.
  for (uint64_t c = 1; c < 20; ++c) EXPECT_TRUE(state.Clock(ClockOf(w0, 0, c)).proceed());
  EXPECT_EQ(state.Status().worker_status(0).clock(), 20u);
}

TEST(ConsistencyLeasesTest, ADeadWorkerLeavesTheBarrierAndItsShardsAreTakenOver) {
  CoordinatorState state(Config("bsp"), 1, Leases(2, 2, absl::Milliseconds(300)));
  const uint32_t w0 = RegisterWorker(state), w1 = RegisterWorker(state);
  ASSERT_EQ(state.AcquireLease(w0).shard(), 0u);
  ASSERT_EQ(state.AcquireLease(w1).shard(), 1u);
  // Worker 1 falls silent; worker 0 keeps reporting clock 0 until the
  // barrier lets it go on, which it can only do once worker 1 is declared dead.
  FinishClock(state, w0, 0, 0);
  EXPECT_FALSE(state.Status().worker_status(1).in_barrier());
  EXPECT_FALSE(state.Status().worker_status(1).alive());
  Complete(state, w0, 0, 0);
  rpc::LeaseResponse l = state.AcquireLease(w0);
  ASSERT_EQ(l.kind(), rpc::LeaseResponse::LEASE) << "the dead worker's shard is up for grabs";
  EXPECT_EQ(l.shard(), 1u);
  EXPECT_EQ(l.clock(), 1u) << "worker 0 goes on counting from its clock";
}

TEST(ConsistencyLeasesTest, SspLetsAWorkerRunStalenessClocksAhead) {
  CoordinatorState state(Config("ssp", 3), 1, Leases(2, 4));
  const uint32_t w0 = RegisterWorker(state), w1 = RegisterWorker(state);
  ASSERT_EQ(state.AcquireLease(w0).kind(), rpc::LeaseResponse::LEASE);
  ASSERT_EQ(state.AcquireLease(w1).kind(), rpc::LeaseResponse::LEASE);
  // Worker 1 is on clock 0: worker 0 may finish clocks 0..2 and start 1..3.
  for (uint64_t c = 0; c < 3; ++c) EXPECT_TRUE(state.Clock(ClockOf(w0, 0, c)).proceed());
  EXPECT_FALSE(state.Clock(ClockOf(w0, 0, 3)).proceed()) << "clock 4 would be 4 ahead";
  rpc::StatusResponse s = state.Status();
  EXPECT_EQ(s.max_clock_ahead(), 3u);
  EXPECT_EQ(s.staleness(), 3u);
  EXPECT_EQ(s.clock_spread(), 4u);
  EXPECT_TRUE(state.Clock(ClockOf(w1, 0, 0)).proceed());
  EXPECT_TRUE(state.Clock(ClockOf(w0, 0, 3)).proceed()) << "worker 1 moved on";
}

TEST(ConsistencyLeasesTest, AspNeverWaits) {
  CoordinatorState state(Config("asp"), 1, Leases(2, 2));
  const uint32_t w0 = RegisterWorker(state);
  EXPECT_EQ(state.AcquireLease(w0).kind(), rpc::LeaseResponse::LEASE)
      << "asp does not wait for the other workers";
  EXPECT_EQ(state.AcquireLease(w0).shard(), 1u) << "any free shard";
  for (uint64_t c = 0; c < 10; ++c) EXPECT_TRUE(state.Clock(ClockOf(w0, 0, c)).proceed());
  EXPECT_EQ(state.Status().consistency(), "asp");
}

}  // namespace
}  // namespace psrec
