#include "server/slot_index.h"

#include "common/hash.h"

namespace psrec {

size_t SlotIndex::Home(uint64_t id) const {
  // Low bits: EmbeddingTable picks the stripe from Mix64's high bits.
  return static_cast<size_t>(Mix64(id)) & (entries_.size() - 1);
}

void SlotIndex::Prefetch(uint64_t id) const {
  if (!entries_.empty()) __builtin_prefetch(&entries_[Home(id)]);
}

uint32_t SlotIndex::Find(uint64_t id) const {
  if (entries_.empty()) return kMissing;
  const size_t mask = entries_.size() - 1;
  for (size_t i = Home(id);; i = (i + 1) & mask) {
    const Entry& e = entries_[i];
    if (e.slot_plus_one == 0) return kMissing;
    if (e.id == id) return e.slot_plus_one - 1;
  }
}

uint32_t SlotIndex::FindOrInsert(uint64_t id, uint32_t slot, bool* inserted) {
  *inserted = false;
  // At most 3/4 full: linear probing's runs stay short (a miss reads ~8
  // entries, two cache lines, on average at the limit).
  if (4 * (size_ + 1) > 3 * entries_.size()) Grow();
  const size_t mask = entries_.size() - 1;
  for (size_t i = Home(id);; i = (i + 1) & mask) {
    Entry& e = entries_[i];
    if (e.slot_plus_one == 0) {
      e = {id, slot + 1, 0};
      ++size_;
      *inserted = true;
      return slot;
    }
    if (e.id == id) return e.slot_plus_one - 1;
  }
}

void SlotIndex::Grow() {
  std::vector<Entry> old(entries_.empty() ? 16 : 2 * entries_.size(), Entry{0, 0, 0});
  old.swap(entries_);
  const size_t mask = entries_.size() - 1;
  for (const Entry& e : old) {
    if (e.slot_plus_one == 0) continue;
    size_t i = Home(e.id);
    while (entries_[i].slot_plus_one != 0) i = (i + 1) & mask;
    entries_[i] = e;
  }
}

}  // namespace psrec
