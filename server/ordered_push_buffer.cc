#include "server/ordered_push_buffer.h"

#include <algorithm>
#include <tuple>

namespace psrec {

void OrderedPushBuffer::Add(uint64_t tag, uint32_t worker, EmbeddingTable* table,
                            absl::Span<const uint64_t> keys, absl::Span<const float> grads,
                            float lr) {
  absl::MutexLock lock(&mu_);
  if (tag < applied_below_) {
    table->Push(keys, grads.data(), lr);
    applied_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  entries_.push_back(
      {tag, worker, table, {keys.begin(), keys.end()}, {grads.begin(), grads.end()}, lr});
}

void OrderedPushBuffer::ApplyBefore(uint64_t tag) {
  absl::MutexLock lock(&mu_);
  ApplyBeforeLocked(tag);
}

void OrderedPushBuffer::ApplyAll() {
  absl::MutexLock lock(&mu_);
  uint64_t highest = 0;
  for (const Entry& e : entries_) highest = std::max(highest, e.tag);
  if (!entries_.empty()) ApplyBeforeLocked(highest + 1);
}

void OrderedPushBuffer::ApplyBeforeLocked(uint64_t tag) {
  applied_below_ = std::max(applied_below_, tag);
  // Most requests of a clock find nothing older buffered.
  if (std::none_of(entries_.begin(), entries_.end(),
                   [tag](const Entry& e) { return e.tag < tag; })) {
    return;
  }
  auto split = std::partition(entries_.begin(), entries_.end(),
                              [tag](const Entry& e) { return e.tag < tag; });
  std::vector<Entry> ready(std::make_move_iterator(entries_.begin()),
                           std::make_move_iterator(split));
  entries_.erase(entries_.begin(), split);
  // Keys are unique within a push, and one worker's pushes of a clock touch
  // disjoint keys per table; the first key breaks the remaining ties.
  std::sort(ready.begin(), ready.end(), [](const Entry& a, const Entry& b) {
    const uint64_t ka = a.keys.empty() ? 0 : a.keys[0];
    const uint64_t kb = b.keys.empty() ? 0 : b.keys[0];
    return std::make_tuple(a.tag, a.worker, a.table->config().id, ka) <
           std::make_tuple(b.tag, b.worker, b.table->config().id, kb);
  });
  for (const Entry& e : ready) e.table->Push(e.keys, e.grads.data(), e.lr);
  applied_.fetch_add(ready.size(), std::memory_order_relaxed);
}

size_t OrderedPushBuffer::pending() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace psrec
