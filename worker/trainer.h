// Training on one leased data shard: build the epoch's examples (positives
// plus freshly sampled negatives for ranking), shuffle them deterministically
// from (seed, epoch, shard), and run mini-batches through the model.
#ifndef PSREC_WORKER_TRAINER_H_
#define PSREC_WORKER_TRAINER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/dataset.h"
#include "common/lr_schedule.h"
#include "proto/psrec.pb.h"
#include "worker/background_task.h"
#include "worker/batch_assembler.h"
#include "worker/batch_clock.h"
#include "worker/loss.h"
#include "worker/models.h"
#include "worker/negative_sampler.h"
#include "worker/ps_client.h"
#include "worker/shard_rows.h"
#include "worker/windowed_mf.h"

namespace psrec {

struct ShardResult {
  uint64_t examples = 0;  // negatives included
  double loss_sum = 0;    // sum over examples of the per-example loss
};

class Trainer {
 public:
  // `sampler` may be null for rating tasks; `implicit` (N(u)) is needed by
  // models with implicit feedback only. All pointers must outlive this.
  Trainer(const rpc::RunConfig& config, const Model* model, PsClient* ps,
          const NegativeSampler* sampler, const ImplicitFeedback* implicit = nullptr);

  // CANCELLED as soon as `stop()` turns true (checked between batches).
  absl::StatusOr<ShardResult> TrainShard(const ShardView& shard, uint32_t epoch,
                                         uint32_t shard_id,
                                         const std::function<bool()>& stop = [] { return false; });

  // ssp/bsp: told about every batch (one clock); null (asp): nothing waits.
  void set_batch_clock(BatchClock* clock) { clock_ = clock; }
  // --sync_every: shards train in windows (worker/windowed_mf.h) rather than
  // batch by batch. Null: batches. Must outlive this.
  void set_windowed(WindowedMf* windowed) { windowed_ = windowed; }

  // Progress through the shard TrainShard is on (or last finished), for the
  // heartbeat thread: readable while TrainShard runs.
  uint64_t shard_examples_done() const { return shard_examples_done_.load(); }
  uint64_t shard_examples() const { return shard_examples_.load(); }
  double shard_loss_sum() const { return shard_loss_sum_.load(); }
  // Zeroes the progress before the next shard starts, so that nothing reads
  // the previous shard's counts as the next one's.
  void ResetProgress() {
    shard_examples_done_.store(0);
    shard_examples_.store(0);
    shard_loss_sum_.store(0);
  }

 private:
  const rpc::RunConfig& config_;
  BatchClock* clock_ = nullptr;
  WindowedMf* windowed_ = nullptr;
  const Model* model_;
  const NegativeSampler* sampler_;
  const Loss loss_;
  const LrSchedule schedule_;
  const bool recency_;  // recency weighting on: batches carry the rows' weights
  // One batch's ids, labels and pulled rows. Two of them: the next batch is
  // pulled while this one computes and pushes.
  struct BatchSlot {
    BatchSlot(const Model* model, PsClient* ps, const ImplicitFeedback* implicit)
        : assembler(model, ps, implicit) {}
    BatchAssembler assembler;
    std::vector<uint64_t> users, items;
    std::vector<float> labels;
    std::vector<float> weights;  // recency weights per example; empty: none
  };
  // Fills `slot` with the examples order_[begin, end) of `shard` (pairwise:
  // positives then their negatives).
  void FillBatch(const ShardView& shard, size_t begin, size_t end, bool pairwise,
                 BatchSlot* slot) const;

  BatchSlot slots_[2];
  BatchGrads grads_;
  // The epoch's examples, reused across shards, 4-12 bytes each: example e
  // is shard row example_row_[e] (row e when there are no negatives) with
  // its own item (kPositive) or the sampled universe item example_item_[e]
  // (for bpr, the pair's negative); order_ is their shuffled order.
  static constexpr uint32_t kPositive = UINT32_MAX;
  std::vector<uint32_t> example_row_, example_item_;
  ModelWorkspace workspace_;
  // Pulls the next batch's rows while this one computes (one thread for
  // the trainer's life).
  BackgroundTask prefetch_;
  std::vector<uint32_t> order_;
  std::atomic<uint64_t> shard_examples_done_{0};
  std::atomic<uint64_t> shard_examples_{0};
  std::atomic<double> shard_loss_sum_{0};
};

}  // namespace psrec

#endif  // PSREC_WORKER_TRAINER_H_
