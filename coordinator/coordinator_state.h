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
  };

  void ExpireSilentWorkers(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A worker that registers again under its id replaces a dead one.
  void ReleaseLeasesOf(uint32_t worker) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static constexpr uint32_t kMaxWorkers = 1 << 16;
  uint32_t CurrentEpoch() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillMap(rpc::ShardMap* m) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillEpochProgress(uint32_t epoch, rpc::EpochSummary* h) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const rpc::RunConfig config_;
  const uint32_t expected_servers_;
  const LeaseOptions lease_;

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
  std::vector<uint64_t> ring_positions_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> ring_owners_ ABSL_GUARDED_BY(mu_);
  // Primaries and backups of the logical shards; set with the first map.
  std::optional<ShardAssignment> assignment_ ABSL_GUARDED_BY(mu_);
};

}  // namespace psrec

#endif  // PSREC_COORDINATOR_COORDINATOR_STATE_H_
