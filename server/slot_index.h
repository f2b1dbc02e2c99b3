// The id -> slot map of one stripe of an EmbeddingTable: open addressing
// with linear probing over 16-byte entries, the home bucket taken from the
// low bits of Mix64(id). What it has over absl::flat_hash_map is
// Prefetch(id): a request's lookups ask for the buckets of keys a few places
// ahead, so their cache misses overlap (absl's prefetch() compiles to
// nothing with Debian's Abseil, and the map's misses were a third of a
// 100k-key push's server CPU). Not thread-safe: the stripe's lock guards it.
#ifndef PSREC_SERVER_SLOT_INDEX_H_
#define PSREC_SERVER_SLOT_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace psrec {

class SlotIndex {
 public:
  static constexpr uint32_t kMissing = ~0u;

  // The slot of `id`, or kMissing.
  uint32_t Find(uint64_t id) const;
  // The slot of `id`; when absent, maps it to `slot` and sets *inserted.
  uint32_t FindOrInsert(uint64_t id, uint32_t slot, bool* inserted);
  // Starts loading the bucket where a lookup of `id` begins.
  void Prefetch(uint64_t id) const;

  size_t size() const { return size_; }
  size_t bytes() const { return entries_.capacity() * sizeof(Entry); }

 private:
  struct Entry {
    uint64_t id;
    uint32_t slot_plus_one;  // 0: empty
    uint32_t unused;
  };
  size_t Home(uint64_t id) const;
  // Doubles the capacity (at least 16 entries) and re-inserts every entry.
  void Grow();

  std::vector<Entry> entries_;  // a power of two long, or empty
  size_t size_ = 0;
};

}  // namespace psrec

#endif  // PSREC_SERVER_SLOT_INDEX_H_
