// Samples, for a user, items that user never interacted with in training,
// uniformly from the run's item universe (the coordinator's item list).
#ifndef PSREC_WORKER_NEGATIVE_SAMPLER_H_
#define PSREC_WORKER_NEGATIVE_SAMPLER_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "common/dataset.h"
#include "common/hash.h"
#include "worker/shard_rows.h"

namespace psrec {

class NegativeSampler {
 public:
  // `item_ids`: the universe, sorted and unique. Positives come from
  // AddPositives: every training interaction (all shards), so "never
  // interacted" is exact, not guessed from one shard.
  explicit NegativeSampler(std::vector<uint64_t> item_ids);
  // Part-file shards: a worker learns positives as it reads its parts.
  // Items outside the universe are never sampled, so they are not kept.
  void AddPositives(absl::Span<const ShardView> shards);

  // An item the user has no training interaction with. After 64 rejected
  // draws (a user who has seen nearly everything) returns a random item.
  uint64_t Sample(uint64_t user, CounterRng& rng) const { return items_[SampleIndex(user, rng)]; }
  // The same draw, as an index into the universe (item(index) is the id).
  uint32_t SampleIndex(uint64_t user, CounterRng& rng) const;
  uint64_t item(uint32_t index) const { return items_[index]; }
  bool Seen(uint64_t user, uint64_t item) const;
  size_t num_items() const { return items_.size(); }
  // Positives held (distinct (user, item) pairs of the universe).
  size_t num_positives() const { return seen_items_.size(); }

 private:
  // Each user's positives as sorted universe indices: seen_items_[offsets_[slot],
  // offsets_[slot + 1]), the slot from user_slot_. 4 bytes per positive.
  absl::Span<const uint32_t> SeenBy(uint64_t user) const;
  // Merges the (slot, universe index) pairs that `for_each_pair(f)` calls
  // f with (twice: to count, then to fill) into the per-user lists.
  template <typename ForEachPair>
  void Merge(ForEachPair&& for_each_pair);
  uint32_t SlotOf(uint64_t user);

  std::vector<uint64_t> items_;
  absl::flat_hash_map<uint64_t, uint32_t> item_index_;  // raw id -> universe index
  absl::flat_hash_map<uint64_t, uint32_t> user_slot_;
  std::vector<uint64_t> offsets_{0};
  std::vector<uint32_t> seen_items_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_NEGATIVE_SAMPLER_H_
