// CoordinatorState's side of the ssp and bsp consistency models: which worker
// gets which shard, when an epoch's clock barrier starts, who leaves it, and
// the Clock call that blocks a worker until the barrier lets it go on.
// (The rest of CoordinatorState is in coordinator_state.cc.)
#include <spdlog/spdlog.h>

#include <algorithm>

#include "coordinator/coordinator_state.h"

namespace psrec {
namespace {

// How long one Clock call may block before it answers proceed = false (the
// worker asks again), and how often a blocked call looks for dead workers.
constexpr absl::Duration kClockCallWait = absl::Seconds(1);
constexpr absl::Duration kClockRecheck = absl::Milliseconds(100);

}  // namespace

bool CoordinatorState::Alive(uint32_t worker, absl::Time now) const {
  return worker < worker_seen_.size() && now - worker_seen_[worker] <= lease_.lease_timeout;
}

int CoordinatorState::ChooseShard(const EpochState& e, uint32_t worker, absl::Time now) const {
  const auto pending = [&](uint32_t s) { return e.shards[s].phase == ShardPhase::kPending; };
  const uint32_t n = static_cast<uint32_t>(e.shards.size());
  if (consistency_ == Consistency::kAsp) {
    for (uint32_t s = 0; s < n; ++s) {
      if (pending(s)) return static_cast<int>(s);
    }
    return -1;
  }
  // A fixed assignment in a fixed order: the same batches meet at the same
  // clocks in every fault-free run.
  const uint32_t workers = std::max<uint32_t>(1, lease_.workers);
  for (uint32_t s = worker % workers; s < n && worker < workers; s += workers) {
    if (pending(s)) return static_cast<int>(s);
  }
  for (uint32_t s = 0; s < n; ++s) {
    if (!pending(s)) continue;
    // ssp trades determinism for balance: an idle worker takes any shard.
    if (consistency_ == Consistency::kSsp || !Alive(s % workers, now)) return static_cast<int>(s);
  }
  return -1;
}

void CoordinatorState::LogWorkerJoined(uint32_t worker) const {
  if (clocks_.epoch().has_value()) return;  // training already started
  uint32_t registered = 0;
  for (absl::Time seen : worker_seen_) registered += seen != absl::InfinitePast() ? 1 : 0;
  spdlog::info("worker {} joined: {} of {} workers (--workers); {} training starts when all have",
               worker, registered, lease_.workers, ConsistencyName(consistency_));
}

bool CoordinatorState::PrepareClockedEpoch(uint32_t epoch, absl::Time now) {
  if (clocks_.epoch().has_value() && *clocks_.epoch() >= epoch) return true;
  uint32_t registered = 0;
  for (absl::Time seen : worker_seen_) registered += seen != absl::InfinitePast() ? 1 : 0;
  // Nobody starts before every worker can take part: the first to register
  // would otherwise run the first clocks alone.
  if (registered < lease_.workers) return false;
  std::vector<uint32_t> participants;
  const uint32_t workers = std::max<uint32_t>(1, lease_.workers);
  for (uint32_t w = 0; w < workers && w < lease_.data_shards; ++w) {
    if (Alive(w, now)) participants.push_back(w);
  }
  clocks_.StartEpoch(epoch, participants);
  spdlog::info("{} epoch {}: clock barrier of {} workers (lead {} clocks)",
               ConsistencyName(consistency_), epoch + 1, participants.size(),
               clocks_.allowed_lead());
  clock_advanced_.SignalAll();
  return true;
}

void CoordinatorState::LeaveBarrierIfDone(uint32_t worker, uint32_t epoch) {
  if (!clocks_.InBarrier(worker) || !clocks_.epoch() || *clocks_.epoch() != epoch) return;
  const EpochState& e = epochs_[epoch];
  for (const ShardSlot& s : e.shards) {
    if (s.phase == ShardPhase::kLeased && s.worker == worker) return;  // still holds one
  }
  if (ChooseShard(e, worker, absl::Now()) >= 0) return;  // more to come
  // Its work of the epoch is done: it ticks empty clocks from here on, i.e.
  // it holds nobody back.
  clocks_.Leave(worker);
  spdlog::debug("worker {} finished its shards of epoch {} at clock {}", worker, epoch + 1,
                clocks_.clock(worker));
  clock_advanced_.SignalAll();
}

void CoordinatorState::LeaveBarrierIfSilent(absl::Time now) {
  for (uint32_t w = 0; w < worker_seen_.size(); ++w) {
    if (!clocks_.InBarrier(w) || Alive(w, now)) continue;
    clocks_.Leave(w);
    spdlog::warn(
        "worker {} silent for over {}: it leaves the clock barrier at clock {}; the "
        "others go on without it",
        w, absl::FormatDuration(lease_.lease_timeout), clocks_.clock(w));
    clock_advanced_.SignalAll();
  }
}

rpc::ClockResponse CoordinatorState::Clock(const rpc::ClockRequest& req) {
  absl::MutexLock lock(&mu_);
  rpc::ClockResponse resp;
  resp.set_proceed(true);
  const uint32_t w = req.worker_id();
  const absl::Time start = absl::Now();
  if (w < worker_seen_.size()) worker_seen_[w] = start;
  // Outside the barrier (asp, another epoch, a worker that left or was
  // declared dead) nothing holds a worker back.
  if (consistency_ == Consistency::kAsp || !clocks_.epoch() || *clocks_.epoch() != req.epoch() ||
      !clocks_.InBarrier(w)) {
    return resp;
  }
  clocks_.Finish(w, req.clock());
  clock_advanced_.SignalAll();
  const uint64_t next = req.clock() + 1;
  for (;;) {
    if (clocks_.MayStart(w, next) || !clocks_.InBarrier(w)) break;
    const absl::Time now = absl::Now();
    LeaveBarrierIfSilent(now);
    if (clocks_.MayStart(w, next)) break;
    if (now - start >= kClockCallWait) {
      resp.set_proceed(false);
      break;
    }
    clock_advanced_.WaitWithTimeout(&mu_, kClockRecheck);
  }
  if (resp.proceed()) clocks_.RecordStart(w, next);
  clocks_.AddWait(w, absl::ToDoubleSeconds(absl::Now() - start));
  return resp;
}

void CoordinatorState::FillClockStatus(rpc::StatusResponse* resp) const {
  resp->set_consistency(ConsistencyName(consistency_));
  if (consistency_ == Consistency::kSsp) resp->set_staleness(config_.staleness());
  resp->set_clock_spread(clocks_.Spread());
  resp->set_max_clock_ahead(clocks_.max_ahead());
}

}  // namespace psrec
