#include "coordinator/checkpoint_rounds.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/rpc_util.h"
#include "coordinator/coordinator_snapshot.h"

namespace psrec {
namespace {

constexpr absl::Duration kTick = absl::Milliseconds(100);

}  // namespace

absl::Status ParseCheckpointEvery(const std::string& value, CheckpointOptions* options) {
  if (value == "off") {
    options->rounds = false;
    return absl::OkStatus();
  }
  absl::string_view v = value;
  const bool seconds = absl::ConsumeSuffix(&v, "s");
  double n = 0;
  if (!absl::SimpleAtod(v, &n) || !(n > 0) || (!seconds && n != static_cast<uint64_t>(n))) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--checkpoint_every=%s: give N batches (e.g. 500), N seconds (e.g. 30s) or off", value));
  }
  if (seconds) {
    options->every = absl::Seconds(n);
    options->every_batches = 0;
  } else {
    options->every_batches = static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

void AddCoverageCollectors(const CoordinatorState* state, PrometheusRegistry* registry) {
  registry->AddCollector(
      "psrec_epoch_examples",
      "Examples per epoch: counted once per data shard (once), the epoch's (expected) and "
      "re-done work (duplicate).",
      PrometheusRegistry::Type::kGauge, [state](std::vector<Sample>* out) {
        rpc::StatusResponse s;
        state->FillCoverage(&s);
        for (const rpc::EpochCoverage& c : s.coverage()) {
          const std::string e = absl::StrCat("epoch=\"", c.epoch() + 1, "\",count=");
          out->push_back({e + "\"once\"", static_cast<double>(c.examples_once())});
          out->push_back({e + "\"expected\"", static_cast<double>(c.expected_examples())});
          out->push_back({e + "\"duplicate\"", static_cast<double>(c.duplicate_examples())});
        }
      });
}

CheckpointRounds::CheckpointRounds(CoordinatorState* state, const rpc::RunConfig& config,
                                   CheckpointOptions options, RpcOptions rpc,
                                   PrometheusRegistry* registry)
    : state_(state),
      config_(config),
      rpc_(std::move(rpc)),
      options_(std::move(options)),
      seconds_(registry->AddHistogram(
          "psrec_checkpoint_seconds",
          "Time of a checkpoint round: draining the leased shards, every server's write and "
          "the coordinator's.",
          "", {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120})),
      failures_(registry->AddCounter("psrec_checkpoint_failures_total",
                                     "Checkpoint rounds that failed; training goes on.")) {
  registry->AddCollector("psrec_checkpoint_last_complete_round",
                         "The newest round every server and the coordinator wrote (0: none).",
                         PrometheusRegistry::Type::kGauge, [this](std::vector<Sample>* out) {
                           out->push_back({"", static_cast<double>(last_complete_.load())});
                         });
}

CheckpointRounds::~CheckpointRounds() { Stop(); }

absl::Status CheckpointRounds::Recover() {
  if (!enabled()) return absl::OkStatus();
  if (auto s = MakeDirs(options_.dir + "/coordinator"); !s.ok()) {
    // Not fatal: rounds will fail and say so, training goes on.
    spdlog::error("checkpoint directory: {} (checkpoints will fail)", s.message());
  }
  // Candidates, best first: the live state (restart), then complete rounds.
  std::vector<std::pair<std::string, bool>> candidates;  // path, is a round
  if (!options_.resume) candidates.push_back({CoordinatorStatePath(options_.dir), false});
  const std::vector<uint64_t> rounds = CoordinatorRounds(options_.dir);
  for (auto it = rounds.rbegin(); it != rounds.rend(); ++it) {
    candidates.push_back({CoordinatorRoundPath(options_.dir, *it), true});
  }
  if (!rounds.empty()) next_round_ = rounds.back() + 1;
  for (const auto& [path, is_round] : candidates) {
    if (!FileExists(path)) continue;
    auto snap = ReadCoordinatorSnapshot(path);
    if (!snap.ok()) {
      spdlog::warn("{}; trying an older state", snap.status().message());
      continue;
    }
    const std::vector<std::string> diff = ConfigDifferences(snap->config(), config_);
    if (!diff.empty()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s was written by a run with another configuration (differing: %s); give the same "
          "flags, or a fresh --checkpoint_dir",
          path, absl::StrJoin(diff, ", ")));
    }
    // A resumed run starts everyone afresh; a restarted coordinator finds
    // its servers and workers still running.
    const bool keep_membership = !options_.resume;
    if (auto s = state_->Restore(*snap, keep_membership); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(path, ": ", s.message()));
    }
    const uint64_t round = is_round ? snap->round() : snap->last_complete_round();
    last_complete_.store(round);
    recovered_round_.store(round);
    uint64_t examples = 0;
    for (const rpc::SnapshotEpoch& e : snap->epochs()) examples += e.examples();
    if (is_round) examples_at_last_round_.store(examples);
    next_round_ = std::max(next_round_, round + 1);
    restore_final_ = !is_round;
    spdlog::info("recovered the coordinator's state from {} (last complete round {}){}", path,
                 round, options_.resume ? "; servers restore the same round" : "");
    return absl::OkStatus();
  }
  if (options_.resume) {
    return absl::NotFoundError(absl::StrFormat(
        "--resume: no complete checkpoint round under %s/coordinator", options_.dir));
  }
  return absl::OkStatus();
}

rpc::CheckpointRestorePoint CheckpointRounds::RestorePoint() const {
  rpc::CheckpointRestorePoint p;
  if (!enabled()) return p;
  p.set_round(last_complete_.load());
  p.set_dir(options_.dir);
  p.set_use_final(restore_final_);
  return p;
}

void CheckpointRounds::FillStatus(rpc::StatusResponse* resp) const {
  rpc::CheckpointStatus* c = resp->mutable_checkpoint();
  c->set_enabled(enabled());
  c->set_dir(options_.dir);
  c->set_last_complete_round(last_complete_.load());
  c->set_recovered_round(recovered_round_.load());
  c->set_examples_at_last_round(examples_at_last_round_.load());
  absl::MutexLock lock(&mu_);
  c->set_rounds_failed(rounds_failed_);
  c->set_last_error(last_error_);
  c->set_last_seconds(last_seconds_);
}

void CheckpointRounds::Start() {
  if (!enabled() || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void CheckpointRounds::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) {
    thread_.join();
    PersistLive();
  }
}

uint64_t CheckpointRounds::BatchesSoFar() const {
  const rpc::StatusResponse s = state_->Status();
  uint64_t examples = 0;
  for (const rpc::EpochSummary& e : s.history()) examples += e.examples_so_far();
  return examples / std::max<uint32_t>(1, config_.batch_size());
}

void CheckpointRounds::Loop() {
  absl::Time last_round = absl::Now();
  uint64_t batches_at_last = BatchesSoFar();
  while (!stop_.WaitForNotificationWithTimeout(kTick)) {
    PersistLive();
    if (!options_.rounds || state_->done()) continue;
    const bool due = options_.every_batches > 0
                         ? BatchesSoFar() - batches_at_last >= options_.every_batches
                         : absl::Now() - last_round >= options_.every;
    if (!due) continue;
    const uint64_t round = next_round_++;
    const absl::Time start = absl::Now();
    const absl::Status s = RunRound(round);
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    {
      absl::MutexLock lock(&mu_);
      last_seconds_ = seconds;
      if (s.ok()) {
        last_error_.clear();
      } else {
        ++rounds_failed_;
        last_error_ = std::string(s.message());
      }
    }
    if (s.ok()) {
      seconds_->Observe(seconds);
      spdlog::info("checkpoint round {} complete ({:.3f}s)", round, seconds);
    } else {
      failures_->Add();
      spdlog::error("checkpoint round {} failed: {} (training goes on)", round, s.message());
    }
    last_round = absl::Now();
    batches_at_last = BatchesSoFar();
  }
}

rpc::ShardCheckpointer::Stub* CheckpointRounds::StubFor(const std::string& address) {
  auto& stub = stubs_[address];
  if (!stub) stub = rpc::ShardCheckpointer::NewStub(MakeChannel(address, rpc_));
  return stub.get();
}

absl::Status CheckpointRounds::RunRound(uint64_t round) {
  state_->HoldLeases(true);
  struct Release {
    CoordinatorState* state;
    ~Release() { state->HoldLeases(false); }
  } release{state_};
  const absl::Time give_up = absl::Now() + options_.drain_timeout;
  while (state_->OutstandingLeases() > 0) {
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "the leased data shards did not finish within %s (smaller --data_shards finish "
          "sooner)",
          absl::FormatDuration(options_.drain_timeout)));
    }
    if (stop_.WaitForNotificationWithTimeout(absl::Milliseconds(20))) {
      return absl::CancelledError("shutting down");
    }
  }
  // Nothing is leased, so nothing is pushed: this state and the servers'
  // shards are the same cut.
  rpc::CoordinatorSnapshot snap = state_->Snapshot();
  for (int i = 0; i < snap.server_addresses_size(); ++i) {
    if (snap.server_addresses(i).empty()) {
      return absl::UnavailableError(absl::StrFormat("server %d has not registered", i));
    }
  }
  for (int i = 0; i < snap.server_addresses_size(); ++i) {
    rpc::ShardCheckpointRequest req;
    req.set_round(round);
    req.set_dir(options_.dir);
    req.set_keep(options_.keep);
    req.set_last_complete_round(last_complete_.load());
    req.set_run_id(snap.run_id());
    rpc::ShardCheckpointResponse resp;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(300));
    if (auto s = FromGrpc(StubFor(snap.server_addresses(i))->WriteCheckpoint(&ctx, req, &resp),
                          absl::StrFormat("server %d (%s)", i, snap.server_addresses(i)));
        !s.ok()) {
      return s;
    }
  }
  // The servers wrote theirs: training may go on while the coordinator
  // writes the state it captured before.
  state_->HoldLeases(false);
  snap.set_round(round);
  snap.set_last_complete_round(round);
  if (auto s = WriteCoordinatorSnapshot(CoordinatorRoundPath(options_.dir, round), snap); !s.ok()) {
    return s;
  }
  uint64_t examples = 0;
  for (const rpc::SnapshotEpoch& e : snap.epochs()) examples += e.examples();
  examples_at_last_round_.store(examples);
  last_complete_.store(round);
  PersistLive();
  // Keep the newest `keep` complete rounds of the coordinator's state.
  const std::vector<uint64_t> rounds = CoordinatorRounds(options_.dir);
  for (size_t i = 0; i + std::max<uint32_t>(1, options_.keep) < rounds.size(); ++i) {
    ::unlink(CoordinatorRoundPath(options_.dir, rounds[i]).c_str());
  }
  return absl::OkStatus();
}

void CheckpointRounds::PersistLive() {
  if (!enabled()) return;
  rpc::CoordinatorSnapshot snap = state_->Snapshot();
  snap.set_last_complete_round(last_complete_.load());
  // The running epoch's clock alone changes every tick: that is rewritten at
  // most every few seconds, anything else (a completion, a gate) at once.
  rpc::CoordinatorSnapshot unclocked = snap;
  for (rpc::SnapshotEpoch& e : *unclocked.mutable_epochs()) e.set_seconds(0);
  std::string bytes;
  unclocked.SerializeToString(&bytes);  // deterministic for equal states
  if (bytes == last_live_ && absl::Now() - last_live_written_ < absl::Seconds(5)) return;
  if (auto s = WriteCoordinatorSnapshot(CoordinatorStatePath(options_.dir), snap); !s.ok()) {
    // Said once per distinct error, not at every tick of a full disk.
    if (s.message() != last_live_error_) {
      spdlog::error("coordinator state: {} (training goes on)", s.message());
      last_live_error_ = std::string(s.message());
      failures_->Add();
    }
    return;
  }
  last_live_error_.clear();
  last_live_ = std::move(bytes);
  last_live_written_ = absl::Now();
}

}  // namespace psrec
