// Matrix factorisation through the parameter servers in windows
// (--sync_every=N, mf + sgd): the worker pulls the rows a window of N
// ratings touches, runs the single-process mode's per-rating sgd loop
// (MfSgdSweep, worker/hogwild_mf.h) on its own copies of them, then pushes
// each touched row's change once (PushRequest.add_deltas; the servers add
// it). A bounded-staleness process cache as in Petuum's SSP client (Ho et
// al. 2013): other workers' changes reach this one at its next window, and
// changes of several workers to a row add up, as in asynchronous SGD.
//
// Why: per batch, the batch path ships every touched row twice and runs the
// dedup, Eigen and summing machinery for ~70 flops per rating; a window of a
// million ratings touches each row about once and ships it twice in all.
//
// A window never spans a data shard: TrainShard returns only after the
// shard's last window was pushed, so a completed lease still means its
// updates are on the servers (checkpoints, retries).
#ifndef PSREC_WORKER_WINDOWED_MF_H_
#define PSREC_WORKER_WINDOWED_MF_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/dataset.h"
#include "common/lr_schedule.h"
#include "proto/psrec.pb.h"
#include "worker/hogwild_mf.h"
#include "worker/ps_client.h"
#include "worker/shard_rows.h"

namespace psrec {

struct WindowedShardResult {
  uint64_t examples = 0;
  double loss_sum = 0;  // sum of squared errors, each before its update
};

class WindowedMf {
 public:
  // InvalidArgument unless CheckSyncEvery(config) accepts the run and
  // sync_every > 0. `ps` must outlive this.
  static absl::StatusOr<std::unique_ptr<WindowedMf>> Create(const rpc::RunConfig& config,
                                                            PsClient* ps);

  // Trains one data shard, window by window. `progress(examples, loss_sum)`
  // after each window; CANCELLED when `stop()` turns true (checked between
  // windows: every finished window's changes are on the servers).
  absl::StatusOr<WindowedShardResult> TrainShard(
      const ShardView& shard, uint32_t epoch, uint32_t shard_id,
      const std::function<bool()>& stop, const std::function<void(uint64_t, double)>& progress);

  // Since start: windows pushed, and rows whose change they pushed.
  uint64_t windows() const { return windows_.load(std::memory_order_relaxed); }
  uint64_t rows_pushed() const { return rows_pushed_.load(std::memory_order_relaxed); }

 private:
  // One table's rows as this worker knows them: a slot per id it has seen.
  struct LocalRows {
    absl::flat_hash_map<uint64_t, uint32_t> slot_of;
    std::vector<uint64_t> keys;   // by slot
    std::vector<float> values;    // slot x dim: the copies the sweeps update
    std::vector<uint64_t> stamp;  // by slot: the last window that used it
    // This window's rows: slots, keys, and their values as pulled (then
    // overwritten by the changes to push).
    std::vector<uint32_t> window_slots;
    std::vector<uint64_t> window_keys;
    std::vector<float> pulled;
    uint32_t SlotOf(uint64_t id);
  };

  WindowedMf(const rpc::RunConfig& config, PsClient* ps, const MfSgdParams& params);
  // The shard's ratings as slots, shuffled once (deterministically from the
  // seed and shard): built on the shard's first lease, kept for later epochs.
  const std::vector<MfRatingSlots>& ShardRatings(const ShardView& shard,
                                                 uint32_t shard_id);
  // Pull, sweep, push for the ratings of `runs` (spans of one window).
  absl::StatusOr<double> TrainWindow(absl::Span<const absl::Span<const MfRatingSlots>> runs,
                                     uint32_t epoch, double progress_begin, double progress_end);

  const rpc::RunConfig& config_;
  PsClient* ps_;
  const MfSgdParams params_;
  const LrSchedule schedule_;
  LocalRows users_, items_;
  absl::flat_hash_map<uint32_t, std::vector<MfRatingSlots>> shards_;
  std::vector<float> scratch_;
  uint64_t window_id_ = 0;
  std::atomic<uint64_t> windows_{0};
  std::atomic<uint64_t> rows_pushed_{0};
};

}  // namespace psrec

#endif  // PSREC_WORKER_WINDOWED_MF_H_
