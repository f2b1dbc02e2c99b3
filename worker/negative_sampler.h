// Samples, for a user, items that user never interacted with in training,
// uniformly from the run's item universe (the coordinator's item list).
#ifndef PSREC_WORKER_NEGATIVE_SAMPLER_H_
#define PSREC_WORKER_NEGATIVE_SAMPLER_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/types/span.h"
#include "common/dataset.h"
#include "common/hash.h"

namespace psrec {

class NegativeSampler {
 public:
  // `positives`: every training interaction (all shards), so "never
  // interacted" is exact, not guessed from one shard.
  NegativeSampler(std::vector<uint64_t> item_ids, absl::Span<const Interaction> positives);
  // Part-file shards: a worker learns positives as it reads its parts.
  void AddPositives(absl::Span<const Interaction> positives);

  // An item the user has no training interaction with. After 64 rejected
  // draws (a user who has seen nearly everything) returns a random item.
  uint64_t Sample(uint64_t user, CounterRng& rng) const;
  bool Seen(uint64_t user, uint64_t item) const { return seen_.contains({user, item}); }
  size_t num_items() const { return items_.size(); }

 private:
  std::vector<uint64_t> items_;
  absl::flat_hash_set<std::pair<uint64_t, uint64_t>> seen_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_NEGATIVE_SAMPLER_H_
