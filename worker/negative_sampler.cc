#include "worker/negative_sampler.h"

namespace psrec {

NegativeSampler::NegativeSampler(std::vector<uint64_t> item_ids,
                                 absl::Span<const Interaction> positives)
    : items_(std::move(item_ids)) {
  AddPositives(positives);
}

void NegativeSampler::AddPositives(absl::Span<const Interaction> positives) {
  seen_.reserve(seen_.size() + positives.size());
  for (const Interaction& x : positives) seen_.insert({x.user, x.item});
}

uint64_t NegativeSampler::Sample(uint64_t user, CounterRng& rng) const {
  uint64_t item = 0;
  for (int tries = 0; tries < 64; ++tries) {
    item = items_[rng.Next() % items_.size()];
    if (!seen_.contains({user, item})) return item;
  }
  return item;
}

}  // namespace psrec
