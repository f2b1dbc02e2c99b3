// Matrix factorisation (--model=mf) trained inside one process: the fast path
// of `psrec train --servers=0`. Every rating is resolved once, before
// training, to the stable rows of the user and item tables
// (EmbeddingTable::StableRow); then threads run per-rating updates on those
// rows without locks (HOGWILD!, Niu et al. 2011): the rare lost update when
// two threads touch the same row at once costs less than any lock would.
//
// One rating's update is the batch path's, with that rating alone: the
// squared loss's gradient scaled as in a batch of --batch_size
// (2 e / batch_size), then the run's optimizer on the user's and the item's
// row, both gradients taken from the rows' values before the update. For sgd
// the same --lr and --batch_size then mean the same step per rating in both
// modes; adagrad and adam normalise the gradient's scale, so their
// per-rating steps are larger than per-batch ones.
#ifndef PSREC_WORKER_HOGWILD_MF_H_
#define PSREC_WORKER_HOGWILD_MF_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/dataset.h"
#include "common/lr_schedule.h"
#include "server/optimizer.h"
#include "server/shard_state.h"

namespace psrec {

// score = mean + p[0] + q[0] + sum_{k>=1} p[k] q[k] (rows [bias | factors]).
float MfScore(const float* p, const float* q, int n, float mean);

// One rating's SGD update of user row p and item row q (n floats each, L2 on
// the factors only), with SgdUpdate, the sgd optimizer's own math. Returns
// the squared error before the update. `scratch` holds 2n floats.
float MfSgdStep(float* p, float* q, int n, float mean, float label, float grad_scale, float lr,
                float l2, float* scratch);

// One mf run's per-rating sgd step, as HogwildMf and WindowedMf take it.
struct MfSgdParams {
  int dim = 0;          // floats of parameters per row: [bias | factors]
  uint32_t stride = 0;  // floats from one row to the next (prefetching)
  float mean = 0;
  float grad_scale = 0;  // 2 / batch_size: the squared loss's gradient in a batch
  float lr = 0;          // base lr x the tables' lr_scale (before any schedule)
  float l2 = 0;
};
// Of an mf run (whose user and item tables are alike): `table` is the user
// table, `optimizer_lr` the optimizer's lr.
MfSgdParams MfSgdParamsOf(const rpc::RunConfig& config, const TableConfig& table,
                          float optimizer_lr, uint32_t stride);

// A rating with its rows' addresses (in-process: the tables' own rows).
struct MfRatingRows {
  float* user;
  float* item;
  float label;
};
// A rating with its rows' slots in two arrays of `stride` floats per slot
// (a windowed worker's copies of the rows).
struct MfRatingSlots {
  uint32_t user;
  uint32_t item;
  float label;
};

// MfSgdStep over `ratings` in order at learning rate `lr`, each rating's
// rows prefetched a few ratings ahead: the one sgd loop of both modes.
// Returns the sum of squared errors, each before its update. `scratch`
// holds 2 dim floats.
double MfSgdSweep(absl::Span<const MfRatingRows> ratings, const MfSgdParams& p, float lr,
                  float* scratch);
double MfSgdSweep(absl::Span<const MfRatingSlots> ratings, float* users, float* items,
                  const MfSgdParams& p, float lr, float* scratch);

struct HogwildEpochResult {
  uint64_t examples = 0;
  double loss_sum = 0;  // sum of squared errors, each before its update
};

class HogwildMf {
 public:
  // Resolves every rating of `train` to its rows in `shard` (which must hold
  // an mf model's tables and outlive this) and shuffles them once,
  // deterministically from the run's seed.
  static absl::StatusOr<std::unique_ptr<HogwildMf>> Create(ShardState* shard,
                                                           const rpc::RunConfig& config,
                                                           absl::Span<const Interaction> train);

  // One pass over the ratings by `threads` threads, each over its own share
  // (started at an epoch-dependent place). `done` counts ratings as they are
  // trained, for progress. Not to be called concurrently with itself.
  HogwildEpochResult RunEpoch(uint32_t epoch, int threads, std::atomic<uint64_t>* done);

  uint64_t ratings() const { return ratings_.size(); }
  uint64_t users() const { return users_; }
  uint64_t items() const { return items_; }

 private:
  // The rows themselves, not indices of them: a lookup of the row pointer
  // in a table of 200k users missed the cache on the way to the prefetch
  // and was the loop's largest cost (perf, README "Performance").
  using Rating = MfRatingRows;
  // Indices of a rating's rows, for the per-row step counts (not for sgd).
  struct RowIndices {
    uint32_t user, item;
  };

  HogwildMf(const rpc::RunConfig& config, const Optimizer* optimizer, const TableConfig& table);
  HogwildEpochResult RunShare(uint32_t epoch, size_t begin, size_t end, uint64_t start_seed,
                              std::atomic<uint64_t>* done);

  const Optimizer* optimizer_;
  const bool sgd_;
  const MfSgdParams params_;  // stride: floats per row in the arena (parameters + state)
  const int l2_begin_;
  const uint64_t seed_;
  const LrSchedule schedule_;
  std::vector<Rating> ratings_;
  std::vector<RowIndices> indices_;  // parallel to ratings_; empty for sgd
  uint64_t users_ = 0, items_ = 0;
  // Per-row step counts for optimizers that use them (Adam's bias
  // correction); not kept for sgd.
  std::unique_ptr<std::atomic<uint32_t>[]> user_steps_, item_steps_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_HOGWILD_MF_H_
