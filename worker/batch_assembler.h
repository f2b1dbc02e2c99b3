// Turns a batch of (user, item) examples into what a model consumes: unique
// keys per table, one pull per table (all tables in flight together), rows
// gathered per example; and back: per-example gradients summed per unique key
// (duplicate keys in a batch add up) and pushed. Buffers are reused across
// batches, so the hot path allocates only while the batch size grows.
#ifndef PSREC_WORKER_BATCH_ASSEMBLER_H_
#define PSREC_WORKER_BATCH_ASSEMBLER_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "worker/implicit_feedback.h"
#include "worker/models.h"
#include "worker/ps_client.h"

namespace psrec {

class BatchAssembler {
 public:
  // `implicit` (N(u) of the training data) is needed, and read, only when the
  // model has implicit feedback (spec().implicit_dim > 0); it must outlive
  // this. Without it such a model sees the user rows alone.
  BatchAssembler(const Model* model, PsClient* ps, const ImplicitFeedback* implicit = nullptr)
      : model_(model), ps_(ps), implicit_(model->spec().implicit_dim > 0 ? implicit : nullptr) {}

  // Pulls and gathers the rows of these examples. Read-only pulls create
  // nothing; rows that do not exist read as zeros and are counted.
  absl::Status Gather(absl::Span<const uint64_t> users, absl::Span<const uint64_t> items,
                      bool read_only);
  // The gathered batch; valid until the next Gather.
  BatchView View(const float* labels) const;
  // Sums per-example gradients per unique key and pushes them, at the run's
  // learning rate times `lr_scale` (the lr schedule's multiplier). With
  // implicit feedback each user's summed factor gradient, x |N(u)|^-1/2, is
  // also y_j's for every j in N(u) (summed per j over the batch's users).
  absl::Status Push(const BatchGrads& grads, float lr_scale = 1.0f);

  // Of the last read-only Gather: examples whose user / item row was missing.
  uint64_t cold_user_examples() const { return cold_users_; }
  uint64_t cold_item_examples() const { return cold_items_; }
  // Unique keys of the last Gather.
  size_t unique_users() const { return users_side_.keys.size(); }
  size_t unique_items() const { return items_side_.keys.size(); }

 private:
  struct Side {
    absl::flat_hash_map<uint64_t, uint32_t> index;
    std::vector<uint64_t> keys;
    std::vector<uint32_t> slot;  // per example
    std::vector<float> rows;     // unique keys x dim
    std::vector<uint8_t> found;
    std::vector<float> gathered;  // examples x dim
    std::vector<float> grad_sum;  // unique keys x dim
  };
  static void Dedupe(absl::Span<const uint64_t> ids, Side* side);
  static void Gather(const Side& side, uint32_t dim, float* out);
  static void SumGrads(const Side& side, uint32_t dim, const std::vector<float>& per_example,
                       std::vector<float>* out);
  // The union of N(u) over the batch's unique users, as implicit_side_.keys,
  // and per unique user the slots of its items (CSR in implicit_begin_).
  void CollectImplicitKeys();
  // Adds the implicit term into the pulled (unique) user rows.
  void AddImplicitToUsers();
  // y's gradient from the users' summed gradient, into implicit_side_.grad_sum.
  void ImplicitGrads();

  const Model* model_;
  PsClient* ps_;
  const ImplicitFeedback* implicit_;
  Side users_side_, items_side_, implicit_side_;
  std::vector<uint32_t> implicit_begin_;  // unique users + 1 offsets into implicit_slots_
  std::vector<uint32_t> implicit_slots_;
  std::vector<const float*> y_rows_;  // scratch
  std::vector<std::vector<float>> dense_;
  int size_ = 0;
  uint64_t cold_users_ = 0, cold_items_ = 0;
};

}  // namespace psrec

#endif  // PSREC_WORKER_BATCH_ASSEMBLER_H_
