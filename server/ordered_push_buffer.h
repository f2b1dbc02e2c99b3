// bsp on a server: pushes tagged with a clock are held back and applied in a
// fixed order, so that a run's result does not depend on arrival order.
//
// A push of clock t is buffered (Add). The first request of a later clock
// (ApplyBefore) applies every buffered push of an earlier clock, sorted by
// (clock, worker, table, first key); requests of clock t + 1 therefore see
// exactly the updates of clocks up to t. The coordinator's barrier makes this
// sound: no worker starts clock t + 1 before every worker's pushes of clock t
// were acknowledged, i.e. buffered here. ApplyAll (read-only pulls, saves)
// flushes everything: under `psrec train` those come between epochs.
// Thread-safe; an apply holds the buffer's lock, so a request of the new clock
// waits until the previous clocks are in.
#ifndef PSREC_SERVER_ORDERED_PUSH_BUFFER_H_
#define PSREC_SERVER_ORDERED_PUSH_BUFFER_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "server/embedding_table.h"

namespace psrec {

class OrderedPushBuffer {
 public:
  // Buffers a validated push of clock tag `tag` (> 0) by `worker`. A push
  // older than what was already applied (a worker that came back after
  // leaving the barrier) is applied at once. `table` must outlive the buffer.
  void Add(uint64_t tag, uint32_t worker, EmbeddingTable* table, absl::Span<const uint64_t> keys,
           absl::Span<const float> grads, float lr);
  // Applies the buffered pushes whose tag is below `tag`, in order.
  void ApplyBefore(uint64_t tag);
  void ApplyAll();
  // Pushes buffered now; pushes applied so far.
  size_t pending() const;
  uint64_t applied() const { return applied_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    uint64_t tag = 0;
    uint32_t worker = 0;
    EmbeddingTable* table = nullptr;
    std::vector<uint64_t> keys;
    std::vector<float> grads;
    float lr = 0;
  };
  void ApplyBeforeLocked(uint64_t tag) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Every tag below this has been applied.
  uint64_t applied_below_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> applied_{0};
};

}  // namespace psrec

#endif  // PSREC_SERVER_ORDERED_PUSH_BUFFER_H_
