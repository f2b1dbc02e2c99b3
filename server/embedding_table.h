// One table's rows on one server: a flat hash map from id to slot plus a
// chunked float arena (row = parameters followed by optimizer state), split
// into lock stripes by a stable hash of the id. Thread-safe: concurrent pulls
// and pushes lock only the stripes their keys fall in.
#ifndef PSREC_SERVER_EMBEDDING_TABLE_H_
#define PSREC_SERVER_EMBEDDING_TABLE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "common/model_spec.h"
#include "server/optimizer.h"
#include "server/slot_index.h"

namespace psrec {

class EmbeddingTable {
 public:
  // `optimizer` must outlive the table.
  EmbeddingTable(const TableConfig& config, const Optimizer* optimizer, uint64_t seed,
                 int num_stripes = 64);
  EmbeddingTable(const EmbeddingTable&) = delete;
  EmbeddingTable& operator=(const EmbeddingTable&) = delete;

  // Copies the parameters of each key into out[i*dim ...]. Missing rows are
  // created with their deterministic initial value, unless `found` is
  // non-null: then nothing is created, missing rows read as zeros and
  // found[i] says which keys exist.
  void Pull(absl::Span<const uint64_t> keys, float* out, uint8_t* found);

  // Applies grads[i*dim ...] to each key's row (creating it if needed) with
  // the table's optimizer at `lr * lr_scale`. Keys must be unique.
  void Push(absl::Span<const uint64_t> keys, const float* grads, float lr);

  // Adds deltas[i*dim ...] to each key's parameters (creating the row if
  // needed), as they are: the change a worker computed on its own copy of
  // the row (windowed MF, RunConfig.sync_every). Counts as one step per row.
  // Keys must be unique.
  void AddToRows(absl::Span<const uint64_t> keys, const float* deltas);
  // Sets each row to its `values` (keys.size() x dim), creating it if
  // missing; its optimizer state starts afresh (PushRequest.assign).
  void AssignRows(absl::Span<const uint64_t> keys, const float* values);

  // The row of `id`, created if missing: dim() parameters followed by the
  // optimizer's state (Optimizer::state_floats() x dim()). Rows never move,
  // so the pointer stays valid for the table's life. Reads and writes through
  // it take no lock and do not count the row's steps: it is for the
  // single-process trainer, which resolves its ids once and then updates rows
  // lock-free (HOGWILD!) while nothing else uses the table.
  float* StableRow(uint64_t id);

  // Sets a row's parameters (model loading); optimizer state starts fresh.
  void Insert(uint64_t id, const float* params);

  // Sets a row's parameters (created if missing), keeping its optimizer
  // state and step count (parameter averaging).
  void SetParameters(uint64_t id, const float* params);

  // Calls fn(id, params) for every row, one stripe locked at a time.
  void ForEach(const std::function<void(uint64_t, const float*)>& fn) const;

  // Checkpoints: a row with its optimizer state (stride() floats: parameters
  // then state) and its update count, read and restored as they are.
  uint32_t stride() const { return stride_; }
  void ForEachWithState(const std::function<void(uint64_t, const float*, uint32_t)>& fn) const;
  void InsertWithState(uint64_t id, const float* row, uint32_t step);

  // The initial value of a row: a pure function of (seed, table, id).
  void InitRow(uint64_t id, float* params) const;

  const TableConfig& config() const { return config_; }
  uint32_t dim() const { return config_.dim; }
  uint64_t rows() const { return rows_.load(std::memory_order_relaxed); }
  // Row updates applied by Push since start (one per key per push).
  uint64_t optimizer_steps() const { return optimizer_steps_.load(std::memory_order_relaxed); }
  // Of optimizer_steps(): row changes added by AddToRows.
  uint64_t delta_rows() const { return delta_rows_.load(std::memory_order_relaxed); }
  // Bytes held by the arena, maps and step counters (allocated, not used).
  uint64_t bytes() const;

 private:
  static constexpr uint32_t kRowsPerBlock = 4096;

  struct Stripe {
    mutable absl::Mutex mu;
    SlotIndex slots ABSL_GUARDED_BY(mu);
    std::vector<std::unique_ptr<float[]>> blocks ABSL_GUARDED_BY(mu);
    std::vector<uint32_t> steps ABSL_GUARDED_BY(mu);
    std::vector<uint64_t> ids ABSL_GUARDED_BY(mu);  // slot -> id, for ForEach
  };

  uint32_t StripeIndex(uint64_t id) const;
  Stripe& StripeOf(uint64_t id) const;
  // Positions of `keys` grouped by stripe (request order within a stripe);
  // stripe s's positions end at (*stripe_end)[s].
  std::vector<uint32_t> OrderByStripe(absl::Span<const uint64_t> keys,
                                      std::vector<uint32_t>* stripe_end) const;
  float* RowPtr(const Stripe& s, uint32_t slot) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu);
  // slot_of[j] = FindOrCreate(keys[order[j]]) for j in [begin, end).
  void FindSlots(Stripe& s, absl::Span<const uint64_t> keys, const std::vector<uint32_t>& order,
                 uint32_t begin, uint32_t end, uint32_t* slot_of)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu);
  void PrefetchRow(const Stripe& s, uint32_t slot) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu);
  // Calls update(row, position in keys, the row's new step count) for each
  // key's row (created if missing), one stripe locked at a time.
  template <typename Update>
  void UpdateRows(absl::Span<const uint64_t> keys, Update update);
  // Finds or creates the row; returns its slot.
  uint32_t FindOrCreate(Stripe& s, uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu);

  const TableConfig config_;
  const Optimizer* optimizer_;
  const uint64_t seed_;
  const uint32_t stride_;  // floats per row: params + optimizer state
  // A dense tensor is one (possibly large) row: no point reserving 4096.
  const uint32_t rows_per_block_;
  std::unique_ptr<Stripe[]> stripes_;
  const uint32_t stripe_mask_;
  std::atomic<uint64_t> rows_{0};
  std::atomic<uint64_t> optimizer_steps_{0};
  std::atomic<uint64_t> delta_rows_{0};
};

}  // namespace psrec

#endif  // PSREC_SERVER_EMBEDDING_TABLE_H_
