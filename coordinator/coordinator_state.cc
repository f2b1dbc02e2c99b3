#include "coordinator/coordinator_state.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "absl/strings/str_format.h"
#include "common/rpc_util.h"
#include "common/shard_map.h"

namespace psrec {
namespace {

uint64_t NewRunId() {
  std::random_device entropy;
  const uint64_t id = (uint64_t{entropy()} << 32) | entropy();
  return id == 0 ? 1 : id;
}

}  // namespace

CoordinatorState::CoordinatorState(rpc::RunConfig config, uint32_t expected_servers,
                                   LeaseOptions lease)
    : config_(std::move(config)),
      expected_servers_(expected_servers),
      lease_(lease),
      consistency_(ParseConsistency(config_.consistency()).value_or(Consistency::kAsp)),
      epochs_(lease.epochs),
      epochs_allowed_(lease.gated ? 1 : lease.epochs),
      clocks_(AllowedLead(consistency_, config_.staleness())),
      run_id_(NewRunId()) {
  for (EpochState& e : epochs_) e.shards.resize(lease_.data_shards);
  server_addresses_.resize(expected_servers_);
  server_metrics_ports_.resize(expected_servers_);
}

absl::StatusOr<rpc::RegisterResponse> CoordinatorState::Register(const rpc::RegisterRequest& req) {
  if (req.protocol_version() != kProtocolVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "protocol version %d, coordinator speaks %d: run the same psrec build everywhere",
        req.protocol_version(), kProtocolVersion));
  }
  absl::MutexLock lock(&mu_);
  rpc::RegisterResponse resp;
  resp.set_expected_servers(expected_servers_);
  resp.set_run_id(run_id_);
  *resp.mutable_config() = config_;
  switch (req.role()) {
    case rpc::ROLE_SERVER: {
      if (req.address().empty()) return absl::InvalidArgumentError("server without an address");
      // A server that registers again with the same address keeps its index.
      for (uint32_t i = 0; i < server_addresses_.size(); ++i) {
        if (server_addresses_[i] != req.address()) continue;
        if (req.has_shard_index() && req.shard_index() != i) {
          return absl::FailedPreconditionError(absl::StrFormat(
              "%s holds shard %d, it cannot take shard %d (--shard_index)", req.address(), i,
              req.shard_index()));
        }
        resp.set_id(i);
        // Replication: a process registers once, so this is a new, empty one
        // (restarted before it was declared dead, or after): the backups of
        // the shards it led take over, and it joins to copy degraded shards.
        if (assignment_ && assignment_->replicas() >= 2) {
          bool changed = false;
          if (assignment_->alive(i)) {
            spdlog::warn("server {} at {} registered again: it restarted empty; the backups of "
                         "its shards take over",
                         i, req.address());
            changed = assignment_->ServerDied(i);
          }
          if (assignment_->Revive(i, absl::Now())) changed = true;
          if (changed) ++map_version_;
        }
        return resp;
      }
      if (assignment_ && assignment_->replicas() >= 2 && !req.has_shard_index() &&
          registered_servers_ == server_addresses_.size()) {
        // Every slot is taken: a new server joins and copies degraded shards.
        const uint32_t joined = assignment_->AddServer(absl::Now());
        server_addresses_.push_back(req.address());
        server_metrics_ports_.push_back(req.metrics_port());
        ++registered_servers_;
        ++map_version_;
        spdlog::info("server {} at {} joined the running cluster", joined, req.address());
        resp.set_id(joined);
        return resp;
      }
      uint32_t index = 0;
      if (req.has_shard_index()) {
        index = req.shard_index();
        if (index >= expected_servers_) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "shard %d asked for, the run has %d servers (--servers), shards 0..%d", index,
              expected_servers_, expected_servers_ - 1));
        }
        if (!server_addresses_[index].empty()) {
          return absl::AlreadyExistsError(absl::StrFormat(
              "shard %d is held by %s (two servers with the same --shard_index?)", index,
              server_addresses_[index]));
        }
      } else {
        while (index < expected_servers_ && !server_addresses_[index].empty()) ++index;
        if (index == expected_servers_) {
          return absl::ResourceExhaustedError(absl::StrFormat(
              "already %d servers registered, the run expects %d (--servers)",
              registered_servers_, expected_servers_));
        }
      }
      resp.set_id(index);
      server_addresses_[index] = req.address();
      server_metrics_ports_[index] = req.metrics_port();
      ++registered_servers_;
      if (registered_servers_ == expected_servers_) {
        Ring ring = Ring::Build(expected_servers_);
        ring_positions_ = ring.positions();
        ring_owners_ = ring.owners();
        assignment_.emplace(expected_servers_, config_.replicas(), absl::Now());
        ++map_version_;
      }
      return resp;
    }
    case rpc::ROLE_WORKER: {
      const uint32_t id =
          req.has_worker_index() ? req.worker_index() : static_cast<uint32_t>(worker_seen_.size());
      if (id >= kMaxWorkers) {
        return absl::InvalidArgumentError(
            absl::StrFormat("--worker_index=%d: must be below %d", id, kMaxWorkers));
      }
      if (id < worker_seen_.size() && clocks_.Leave(id)) {
        spdlog::warn("worker {} registered again: it leaves the clock barrier until its next "
                     "lease",
                     id);
        clock_advanced_.SignalAll();
      }
      if (id >= worker_seen_.size()) {
        // Ids never handed out read as long silent.
        worker_seen_.resize(id + 1, absl::InfinitePast());
        worker_records_.resize(id + 1);
      }
      // Leases held under this id (a dead predecessor's, or taken before the
      // id registered) are not this worker's: they go back to the pool.
      ReleaseLeasesOf(id);
      worker_records_[id].progress = {};  // a replacement starts afresh
      worker_records_[id].metrics_port = req.metrics_port();
      worker_seen_[id] = absl::Now();
      if (consistency_ != Consistency::kAsp) LogWorkerJoined(id);
      resp.set_id(id);
      return resp;
    }
    case rpc::ROLE_DRIVER:
      return resp;
    default:
      return absl::InvalidArgumentError("register: role is not set");
  }
}

rpc::ShardMapResponse CoordinatorState::GetShardMap() const {
  absl::MutexLock lock(&mu_);
  rpc::ShardMapResponse resp;
  resp.set_ready(map_version_ > 0);
  if (map_version_ == 0) return resp;
  FillMap(resp.mutable_map());
  return resp;
}

void CoordinatorState::FillMap(rpc::ShardMap* m) const {
  m->set_version(map_version_);
  m->set_run_id(run_id_);
  for (const auto& a : server_addresses_) m->add_server_addresses(a);
  for (uint64_t p : ring_positions_) m->add_ring_positions(p);
  for (uint32_t o : ring_owners_) m->add_ring_owners(o);
  if (assignment_ && assignment_->replicas() >= 2) assignment_->FillMap(m);
}

absl::StatusOr<rpc::ShardMap> CoordinatorState::DropBackup(const rpc::ReplicaDropRequest& req) {
  absl::MutexLock lock(&mu_);
  if (!assignment_ || req.logical_shard() >= ring_positions_.size()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "drop backup: no shard %d in the map (version %d)", req.logical_shard(), map_version_));
  }
  if (assignment_->DropBackup(req.logical_shard(), req.backup())) {
    spdlog::warn("shard {}: reason given by primary server {}: {}", req.logical_shard(),
                 req.primary(), req.reason());
    ++map_version_;
  }
  rpc::ShardMap m;
  FillMap(&m);
  return m;
}

absl::StatusOr<rpc::ShardMap> CoordinatorState::Joined(const rpc::ReplicaJoinedRequest& req) {
  absl::MutexLock lock(&mu_);
  if (!assignment_ || req.logical_shard() >= ring_positions_.size()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("joined: no shard %d in the map", req.logical_shard()));
  }
  if (!assignment_->Joined(req.logical_shard(), req.server())) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "joined: server %d is not copying shard %d (map version %d): its copy was abandoned",
        req.server(), req.logical_shard(), map_version_));
  }
  ++map_version_;
  rpc::ShardMap m;
  FillMap(&m);
  return m;
}

ReplicationCounters CoordinatorState::replication_counters() const {
  absl::MutexLock lock(&mu_);
  ReplicationCounters c;
  if (!assignment_) return c;
  c.degraded_shards = assignment_->degraded_shards();
  c.lost_shards = assignment_->lost_shards();
  c.promotions = assignment_->promotions();
  return c;
}

void CoordinatorState::Heartbeat(rpc::Role role, uint32_t id,
                                 const rpc::LeaseProgress& progress) {
  absl::MutexLock lock(&mu_);
  // Any heartbeat advances the replication clock: a dead server is noticed
  // while the others (servers every second) still call.
  if (assignment_ && assignment_->replicas() >= 2) {
    const absl::Time now = absl::Now();
    if (role == rpc::ROLE_SERVER) assignment_->Seen(id, now);
    if (assignment_->ExpireSilent(now, lease_.server_timeout)) ++map_version_;
  }
  if (role != rpc::ROLE_WORKER || id >= worker_seen_.size()) return;
  worker_seen_[id] = absl::Now();
  worker_records_[id].progress = progress;
}

uint32_t CoordinatorState::CurrentEpoch() const {
  uint32_t e = 0;
  while (e < epochs_.size() && epochs_[e].done_shards == lease_.data_shards) ++e;
  return e;
}

void CoordinatorState::ExpireSilentWorkers(absl::Time now) {
  for (EpochState& e : epochs_) {
    for (ShardSlot& s : e.shards) {
      // An id that never registered (AcquireLease takes any) is never seen.
      if (s.phase == ShardPhase::kLeased &&
          (s.worker >= worker_seen_.size() ||
           now - worker_seen_[s.worker] > lease_.lease_timeout)) {
        spdlog::warn("worker {} silent for over {}: epoch {} shard {} goes back to the pool",
                     s.worker, absl::FormatDuration(lease_.lease_timeout), &e - epochs_.data(),
                     &s - e.shards.data());
        CountRelease(e, &e - epochs_.data(), &s - e.shards.data(), s.worker);
        s.phase = ShardPhase::kPending;
        ++lease_counters_.expired;
      }
    }
  }
}

void CoordinatorState::ReleaseLeasesOf(uint32_t worker) {
  for (EpochState& e : epochs_) {
    for (ShardSlot& s : e.shards) {
      if (s.phase == ShardPhase::kLeased && s.worker == worker) {
        spdlog::warn("worker {} registered again (a replacement): epoch {} shard {} goes back to "
                     "the pool",
                     worker, &e - epochs_.data(), &s - e.shards.data());
        CountRelease(e, &e - epochs_.data(), &s - e.shards.data(), worker);
        s.phase = ShardPhase::kPending;
      }
    }
  }
}

rpc::LeaseResponse CoordinatorState::AcquireLease(uint32_t worker_id) {
  absl::MutexLock lock(&mu_);
  rpc::LeaseResponse resp;
  const absl::Time now = absl::Now();
  if (worker_id < worker_seen_.size()) worker_seen_[worker_id] = now;
  const uint32_t epoch = CurrentEpoch();
  if (stopped_ || epoch >= epochs_.size()) {
    resp.set_kind(rpc::LeaseResponse::DONE);
    return resp;
  }
  resp.set_retry_ms(20);
  if (epoch >= epochs_allowed_) {
    resp.set_kind(rpc::LeaseResponse::WAIT);
    return resp;
  }
  ExpireSilentWorkers(now);
  if (hold_leases_) {  // a checkpoint round is draining the leased shards
    resp.set_kind(rpc::LeaseResponse::WAIT);
    return resp;
  }
  if (consistency_ != Consistency::kAsp && !PrepareClockedEpoch(epoch, now)) {
    resp.set_kind(rpc::LeaseResponse::WAIT);
    return resp;
  }
  EpochState& e = epochs_[epoch];
  const int s = ChooseShard(e, worker_id, now);
  if (s < 0) {
    resp.set_kind(rpc::LeaseResponse::WAIT);
    return resp;
  }
  e.shards[s] = {ShardPhase::kLeased, worker_id};
  ++lease_counters_.granted;
  if (e.start == absl::InfinitePast()) e.start = now;
  resp.set_kind(rpc::LeaseResponse::LEASE);
  resp.set_epoch(epoch);
  resp.set_shard(static_cast<uint32_t>(s));
  if (consistency_ != Consistency::kAsp) resp.set_clock(clocks_.Enter(worker_id));
  return resp;
}

absl::Status CoordinatorState::CompleteLease(const rpc::CompleteRequest& req) {
  absl::MutexLock lock(&mu_);
  if (req.epoch() >= epochs_.size() || req.shard() >= lease_.data_shards) {
    return absl::InvalidArgumentError(
        absl::StrFormat("complete: no shard %d of epoch %d", req.shard(), req.epoch()));
  }
  EpochState& e = epochs_[req.epoch()];
  ShardSlot& slot = e.shards[req.shard()];
  if (slot.phase == ShardPhase::kDone) {  // a re-leased shard done twice
    e.duplicate_examples += req.examples();
    return absl::OkStatus();
  }
  slot.phase = ShardPhase::kDone;
  ++lease_counters_.completed;
  ++e.done_shards;
  e.examples += req.examples();
  e.loss_sum += req.loss_sum();
  if (req.worker_id() < worker_records_.size()) {
    WorkerRecord& w = worker_records_[req.worker_id()];
    ++w.shards_completed;
    w.examples_completed += req.examples();
    // The shard is finished: it no longer counts as in progress.
    if (w.progress.epoch() == req.epoch() && w.progress.shard() == req.shard()) {
      w.progress.Clear();
    }
  }
  if (e.done_shards == lease_.data_shards) {
    e.seconds = absl::ToDoubleSeconds(absl::Now() - e.start);
  }
  if (consistency_ != Consistency::kAsp) LeaveBarrierIfDone(req.worker_id(), req.epoch());
  return absl::OkStatus();
}

void CoordinatorState::HoldLeases(bool hold) {
  absl::MutexLock lock(&mu_);
  hold_leases_ = hold;
}

uint32_t CoordinatorState::OutstandingLeases() const {
  absl::MutexLock lock(&mu_);
  uint32_t n = 0;
  for (const EpochState& e : epochs_) {
    for (const ShardSlot& s : e.shards) n += s.phase == ShardPhase::kLeased;
  }
  return n;
}

void CoordinatorState::Gate(uint32_t epochs_allowed, bool stop) {
  absl::MutexLock lock(&mu_);
  epochs_allowed_ = std::max(epochs_allowed_, epochs_allowed);
  stopped_ = stopped_ || stop;
}

bool CoordinatorState::done() const {
  absl::MutexLock lock(&mu_);
  return stopped_ || CurrentEpoch() >= epochs_.size();
}

void CoordinatorState::FillEpochProgress(uint32_t epoch, rpc::EpochSummary* h) const {
  const EpochState& e = epochs_[epoch];
  h->set_done_shards(e.done_shards);
  h->set_data_shards(lease_.data_shards);
  uint64_t so_far = e.examples;
  uint64_t known_total = e.examples;  // of the shards whose size is known
  uint32_t known_shards = e.done_shards;
  for (const WorkerRecord& w : worker_records_) {
    const rpc::LeaseProgress& p = w.progress;
    if (!p.leased() || p.epoch() != epoch || p.shard() >= e.shards.size() ||
        e.shards[p.shard()].phase != ShardPhase::kLeased) {
      continue;
    }
    so_far += std::min(p.examples_done(), p.shard_examples());
    known_total += p.shard_examples();
    ++known_shards;
  }
  h->set_examples_so_far(so_far);
  // Every epoch has as many examples as the first (negatives are drawn per
  // positive); before one is complete, extrapolate from the shards seen.
  if (epoch > 0 && epochs_[0].done_shards == lease_.data_shards) {
    h->set_expected_examples(epochs_[0].examples);
  } else if (e.done_shards == lease_.data_shards) {
    h->set_expected_examples(e.examples);
  } else if (known_shards > 0) {
    h->set_expected_examples(known_total * lease_.data_shards / known_shards);
  }
}

LeaseCounters CoordinatorState::lease_counters() const {
  absl::MutexLock lock(&mu_);
  return lease_counters_;
}

void CoordinatorState::set_metrics_port(int port) {
  absl::MutexLock lock(&mu_);
  metrics_port_ = port;
}

rpc::StatusResponse CoordinatorState::Status() const {
  absl::MutexLock lock(&mu_);
  rpc::StatusResponse resp;
  resp.set_metrics_port(static_cast<uint32_t>(std::max(0, metrics_port_)));
  resp.set_current_epoch(CurrentEpoch());
  resp.set_epochs(static_cast<uint32_t>(epochs_.size()));
  resp.set_open_epochs(epochs_allowed_);
  resp.set_done(stopped_ || CurrentEpoch() >= epochs_.size());
  resp.set_workers(static_cast<uint32_t>(worker_seen_.size()));
  resp.set_servers(registered_servers_);
  resp.set_expected_servers(expected_servers_);
  resp.set_data_shards(lease_.data_shards);
  resp.set_model(config_.model());
  resp.set_train_path(config_.train_path());
  const absl::Time now = absl::Now();
  resp.set_uptime_seconds(absl::ToDoubleSeconds(now - started_));
  if (map_version_ > 0) FillMap(resp.mutable_map());
  resp.set_replicas(std::max<uint32_t>(1, config_.replicas()));
  if (assignment_) {
    resp.set_degraded_shards(assignment_->degraded_shards());
    resp.set_lost_shards(assignment_->lost_shards());
    resp.set_promotions(assignment_->promotions());
  }
  for (uint32_t i = 0; i < server_addresses_.size(); ++i) {
    if (server_addresses_[i].empty()) continue;
    rpc::ServerStatus* s = resp.add_server_status();
    s->set_index(i);
    s->set_address(server_addresses_[i]);
    s->set_metrics_port(server_metrics_ports_[i]);
    if (assignment_ && assignment_->replicas() >= 2) {
      s->set_alive(assignment_->alive(i));
      s->set_seconds_since_seen(absl::ToDoubleSeconds(now - assignment_->last_seen(i)));
      s->set_primary_shards(assignment_->PrimariesOn(i));
      s->set_backup_shards(assignment_->BackupsOn(i));
    } else {
      s->set_alive(true);
    }
  }
  for (uint32_t i = 0; i < worker_seen_.size(); ++i) {
    if (worker_seen_[i] == absl::InfinitePast()) continue;  // an id nobody took (--worker_index)
    const WorkerRecord& r = worker_records_[i];
    rpc::WorkerStatus* w = resp.add_worker_status();
    w->set_id(i);
    w->set_seconds_since_seen(absl::ToDoubleSeconds(now - worker_seen_[i]));
    w->set_alive(now - worker_seen_[i] <= lease_.lease_timeout);
    *w->mutable_progress() = r.progress;
    w->set_shards_completed(r.shards_completed);
    w->set_examples_completed(r.examples_completed);
    w->set_metrics_port(r.metrics_port);
    w->set_clock(clocks_.clock(i));
    w->set_clock_wait_seconds(clocks_.wait_seconds(i));
    w->set_in_barrier(clocks_.InBarrier(i));
  }
  FillClockStatus(&resp);
  for (uint32_t i = 0; i < epochs_.size(); ++i) {
    const EpochState& e = epochs_[i];
    if (e.start == absl::InfinitePast()) break;
    rpc::EpochSummary* h = resp.add_history();
    h->set_epoch(i);
    h->set_examples(e.examples);
    h->set_loss(e.examples ? e.loss_sum / e.examples : 0.0);
    h->set_complete(e.done_shards == lease_.data_shards);
    FillEpochProgress(i, h);
    h->set_seconds(h->complete() ? e.seconds : absl::ToDoubleSeconds(absl::Now() - e.start));
  }
  return resp;
}

}  // namespace psrec
