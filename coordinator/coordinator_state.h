// The coordinator's bookkeeping, free of gRPC so it can be tested directly:
// membership, the shard map, data-shard leases per epoch, the epoch gate and
// progress. Thread-safe.
#ifndef PSREC_COORDINATOR_COORDINATOR_STATE_H_
#define PSREC_COORDINATOR_COORDINATOR_STATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/consistency.h"
#include "coordinator/clock_table.h"
#include "proto/checkpoint.pb.h"
#include "coordinator/shard_assignment.h"
#include "proto/psrec.pb.h"

namespace psrec {

struct LeaseOptions {
  uint32_t epochs = 1;
  uint32_t data_shards = 4;
  // When true, epoch e starts only after the driver allowed it (it evaluates
  // between epochs); otherwise epochs follow each other freely.
  bool gated = false;
  // A worker silent this long loses its leases; its shards go back to the pool.
  absl::Duration lease_timeout = absl::Seconds(30);
  // ssp/bsp (the run config's consistency): the workers of the run. Leases
  // wait until this many registered; worker w owns the shards s with
  // s % workers == w and gets them in order (README "Consistency").
  uint32_t workers = 1;
  // Replication (config.replicas >= 2): a server silent this long is declared
  // dead and its shards' backups are promoted.
  absl::Duration server_timeout = absl::Seconds(5);
};

// Replication figures, for the metrics endpoint.
struct ReplicationCounters {
  uint32_t degraded_shards = 0;
  uint32_t lost_shards = 0;
  uint64_t promotions = 0;
};

// How often leases changed hands, for the metrics endpoint.
struct LeaseCounters {
  uint64_t granted = 0;
  uint64_t expired = 0;    // taken back from a silent worker
  uint64_t completed = 0;  // first completions only, duplicates not counted
};

class CoordinatorState {
 public:
  CoordinatorState(rpc::RunConfig config, uint32_t expected_servers, LeaseOptions lease);

  // Registers a server (returns its index) or a worker (returns its id).
  absl::StatusOr<rpc::RegisterResponse> Register(const rpc::RegisterRequest& req);
  // The shard map once every expected server registered.
  rpc::ShardMapResponse GetShardMap() const;
  void Heartbeat(rpc::Role role, uint32_t id, const rpc::LeaseProgress& progress = {});
  rpc::LeaseResponse AcquireLease(uint32_t worker_id);
  absl::Status CompleteLease(const rpc::CompleteRequest& req);
  void Gate(uint32_t epochs_allowed, bool stop);
  // ssp/bsp: the worker finished a clock; blocks (about a second at most)
  // until the barrier lets it start the next one. See rpc::ClockRequest.
  rpc::ClockResponse Clock(const rpc::ClockRequest& req);
  rpc::StatusResponse Status() const;
  bool done() const;
  LeaseCounters lease_counters() const;
  ReplicationCounters replication_counters() const;
  // A primary could not forward to its backup: the backup leaves the chain.
  // Returns the map after the change.
  absl::StatusOr<rpc::ShardMap> DropBackup(const rpc::ReplicaDropRequest& req);
  // A joining server finished copying a shard: it becomes the backup.
  absl::StatusOr<rpc::ShardMap> Joined(const rpc::ReplicaJoinedRequest& req);
  // The coordinator's own metrics port, reported by Status().
  void set_metrics_port(int port);

  // Durability (coordinator/checkpoint_rounds.h). While held, no lease is
  // granted, so the leased shards drain and a round cuts at shard boundaries.
  void HoldLeases(bool hold);
  // Data shards leased and not completed yet, over all epochs.
  uint32_t OutstandingLeases() const;
  // Defined in coordinator/coordinator_snapshot.cc: the state to persist, and
  // its restore. `keep_membership`: a restarted coordinator whose servers and
  // workers live on; false: a resumed run, where everyone registers afresh.
  rpc::CoordinatorSnapshot Snapshot() const;
  absl::Status Restore(const rpc::CoordinatorSnapshot& snapshot, bool keep_membership);
  // Per epoch: examples counted once against the epoch's, and duplicates.
  void FillCoverage(rpc::StatusResponse* resp) const;

 private:
  enum class ShardPhase { kPending, kLeased, kDone };
  struct ShardSlot {
    ShardPhase phase = ShardPhase::kPending;
    uint32_t worker = 0;
  };
  struct EpochState {
    std::vector<ShardSlot> shards;
    uint32_t done_shards = 0;
    uint64_t examples = 0;
    double loss_sum = 0;
    absl::Time start = absl::InfinitePast();
    double seconds = 0;
    uint64_t duplicate_examples = 0;  // re-done work: see rpc::EpochCoverage
    uint32_t releases = 0;
  };

  void ExpireSilentWorkers(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A worker that registers again under its id replaces a dead one.
  void ReleaseLeasesOf(uint32_t worker) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A lease taken back: what its worker reported of the shard is re-done
  // work (defined in coordinator/coordinator_snapshot.cc).
  void CountRelease(EpochState& e, uint32_t epoch, uint32_t shard, uint32_t worker)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static constexpr uint32_t kMaxWorkers = 1 << 16;
  uint32_t CurrentEpoch() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillMap(rpc::ShardMap* m) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillEpochProgress(uint32_t epoch, rpc::EpochSummary* h) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Consistency (ssp/bsp), in coordinator/consistency_leases.cc.
  bool Alive(uint32_t worker, absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The shard `worker` gets next in epoch `e`, or -1: asp any pending one;
  // ssp/bsp its own in order, then one whose owner is dead (ssp: any).
  int ChooseShard(const EpochState& e, uint32_t worker, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Before granting a lease of `epoch`: false while the barrier cannot start
  // (not every worker registered); starts the epoch's barrier once.
  bool PrepareClockedEpoch(uint32_t epoch, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a completion: a worker with nothing left to do in the epoch leaves.
  void LeaveBarrierIfDone(uint32_t worker, uint32_t epoch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LeaveBarrierIfSilent(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Says how many workers the barrier still waits for before epoch 1.
  void LogWorkerJoined(uint32_t worker) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillClockStatus(rpc::StatusResponse* resp) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const rpc::RunConfig config_;
  const uint32_t expected_servers_;
  const LeaseOptions lease_;
  const Consistency consistency_;

  mutable absl::Mutex mu_;
  // One slot per expected server, by shard index; "" while free.
  std::vector<std::string> server_addresses_ ABSL_GUARDED_BY(mu_);
  uint32_t registered_servers_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::Time> worker_seen_ ABSL_GUARDED_BY(mu_);
  // Per worker: its last reported progress and what it completed.
  struct WorkerRecord {
    rpc::LeaseProgress progress;
    uint32_t shards_completed = 0;
    uint64_t examples_completed = 0;
    uint32_t metrics_port = 0;
  };
  std::vector<WorkerRecord> worker_records_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> server_metrics_ports_ ABSL_GUARDED_BY(mu_);
  const absl::Time started_ = absl::Now();
  std::vector<EpochState> epochs_ ABSL_GUARDED_BY(mu_);
  uint32_t epochs_allowed_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t map_version_ ABSL_GUARDED_BY(mu_) = 0;
  LeaseCounters lease_counters_ ABSL_GUARDED_BY(mu_);
  int metrics_port_ ABSL_GUARDED_BY(mu_) = 0;
  bool hold_leases_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<uint64_t> ring_positions_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> ring_owners_ ABSL_GUARDED_BY(mu_);
  ClockTable clocks_ ABSL_GUARDED_BY(mu_);
  absl::CondVar clock_advanced_;  // a clock finished or a worker left
  // Primaries and backups of the logical shards; set with the first map.
  std::optional<ShardAssignment> assignment_ ABSL_GUARDED_BY(mu_);
  // rpc::ShardMap.run_id: random and nonzero; Restore() puts back the saved one.
  uint64_t run_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace psrec

#endif  // PSREC_COORDINATOR_COORDINATOR_STATE_H_
