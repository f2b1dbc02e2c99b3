// Coordinated checkpoint rounds (README "Failure and recovery"). A round is
// one consistent cut: the coordinator stops granting leases, waits until the
// leased data shards are completed (so the cut falls on data-shard
// boundaries), asks every server to write its shard for round R, then writes
// its own state of the same moment for round R. Only then is R complete.
// Between rounds the coordinator's live state is rewritten whenever it
// changes, so that a restarted coordinator carries on where it stopped.
// A failed round (full disk, unwritable directory, a server down) is logged,
// counted and shown in status; training goes on and the next round retries.
#ifndef PSREC_COORDINATOR_CHECKPOINT_ROUNDS_H_
#define PSREC_COORDINATOR_CHECKPOINT_ROUNDS_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/prometheus.h"
#include "common/rpc_options.h"
#include "coordinator/coordinator_state.h"
#include "proto/checkpoint.grpc.pb.h"

namespace psrec {

struct CheckpointOptions {
  std::string dir;                           // "": checkpoints off
  // false: no rounds, only the coordinator's live state (--checkpoint_every=
  // off, ssp/bsp, --replicas=2).
  bool rounds = true;
  uint64_t every_batches = 0;                // a round after this many batches (0: by time)
  absl::Duration every = absl::Seconds(60);  // or after this long
  uint32_t keep = 3;                         // complete rounds kept on disk
  // How long a round waits for the leased shards to finish before giving up.
  absl::Duration drain_timeout = absl::Seconds(120);
  // Start from the newest complete round (psrec train --resume) instead of
  // the live state (a restarted coordinator).
  bool resume = false;
};

// --checkpoint_every: "N" batches (examples / batch size, over all workers),
// "Ns" seconds, or "off". Sets every_batches or every; "off" sets rounds =
// false (the coordinator still keeps its live state in dir).
absl::Status ParseCheckpointEvery(const std::string& value, CheckpointOptions* options);

// Per-epoch example coverage (rpc::EpochCoverage) as Prometheus gauges.
void AddCoverageCollectors(const CoordinatorState* state, PrometheusRegistry* registry);

class CheckpointRounds {
 public:
  // `config`: this run's, dataset facts filled in (compared with the saved
  // state's on recovery). Metrics go to `registry`; `rpc` (TLS, token) is how
  // the servers are dialed.
  CheckpointRounds(CoordinatorState* state, const rpc::RunConfig& config, CheckpointOptions options,
                   RpcOptions rpc, PrometheusRegistry* registry);
  ~CheckpointRounds();

  bool enabled() const { return !options_.dir.empty(); }
  // Before serving: restores the saved state, if any. A configuration that
  // differs from the saved one is FailedPrecondition naming the fields.
  absl::Status Recover();
  // Starts the thread that runs rounds and keeps the live state written.
  void Start();
  // Stops it and writes the live state a last time.
  void Stop();

  uint64_t last_complete_round() const { return last_complete_.load(); }
  // What a registering server restores.
  rpc::CheckpointRestorePoint RestorePoint() const;
  void FillStatus(rpc::StatusResponse* resp) const;

 private:
  void Loop();
  // Total batches trained so far (examples / batch size), for every_batches.
  uint64_t BatchesSoFar() const;
  absl::Status RunRound(uint64_t round);
  void PersistLive();
  rpc::ShardCheckpointer::Stub* StubFor(const std::string& address);

  CoordinatorState* state_;
  const rpc::RunConfig config_;
  const RpcOptions rpc_;
  const CheckpointOptions options_;
  Histogram* seconds_;
  Counter* failures_;
  std::atomic<uint64_t> last_complete_{0};
  std::atomic<uint64_t> recovered_round_{0};
  std::atomic<uint64_t> examples_at_last_round_{0};
  bool restore_final_ = true;  // a restarted coordinator: servers may use their SIGTERM snapshot
  std::map<std::string, std::unique_ptr<rpc::ShardCheckpointer::Stub>> stubs_;
  std::string last_live_;  // the live state last written, its epoch clocks zeroed
  absl::Time last_live_written_ = absl::InfinitePast();
  std::string last_live_error_;
  uint64_t next_round_ = 1;
  mutable absl::Mutex mu_;
  uint64_t rounds_failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  double last_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace psrec

#endif  // PSREC_COORDINATOR_CHECKPOINT_ROUNDS_H_
