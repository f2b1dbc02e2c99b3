#include "worker/negative_sampler.h"

#include <algorithm>
#include <utility>

namespace psrec {

NegativeSampler::NegativeSampler(std::vector<uint64_t> item_ids) : items_(std::move(item_ids)) {
  item_index_.reserve(items_.size());
  for (size_t i = 0; i < items_.size(); ++i) item_index_.emplace(items_[i], i);
}

uint32_t NegativeSampler::SlotOf(uint64_t user) {
  auto [it, added] = user_slot_.try_emplace(user, static_cast<uint32_t>(offsets_.size() - 1));
  if (added) offsets_.push_back(offsets_.back());
  return it->second;
}

void NegativeSampler::AddPositives(absl::Span<const ShardView> shards) {
  // Per view, once: its item indices as universe indices (UINT32_MAX: not
  // in the universe) and its user indices as slots.
  std::vector<std::vector<uint32_t>> to_universe(shards.size()), slot_of(shards.size());
  for (size_t v = 0; v < shards.size(); ++v) {
    const ShardView& view = shards[v];
    to_universe[v].assign(view.items().size(), UINT32_MAX);
    for (size_t i = 0; i < view.items().size(); ++i) {
      if (auto it = item_index_.find(view.items().id(i)); it != item_index_.end()) {
        to_universe[v][i] = it->second;
      }
    }
    slot_of[v].assign(view.users().size(), UINT32_MAX);
    for (size_t i = 0; i < view.size(); ++i) {
      uint32_t& slot = slot_of[v][view.row(i).user];
      if (slot == UINT32_MAX) slot = SlotOf(view.users().id(view.row(i).user));
    }
  }
  Merge([&](auto&& pair) {
    for (size_t v = 0; v < shards.size(); ++v) {
      for (size_t i = 0; i < shards[v].size(); ++i) {
        const ShardRow& r = shards[v].row(i);
        const uint32_t item = to_universe[v][r.item];
        if (item != UINT32_MAX) pair(slot_of[v][r.user], item);
      }
    }
  });
}

template <typename ForEachPair>
void NegativeSampler::Merge(ForEachPair&& for_each_pair) {
  const size_t slots = offsets_.size() - 1;
  // Counting sort by slot into the new layout (old positives, then new), in
  // two passes over the new ones: nothing is held per positive but the result.
  std::vector<uint64_t> offsets(slots + 1, 0);
  for (size_t s = 0; s < slots; ++s) offsets[s + 1] = offsets_[s + 1] - offsets_[s];
  uint64_t added = 0;
  for_each_pair([&](uint32_t slot, uint32_t) {
    ++offsets[slot + 1];
    ++added;
  });
  if (added == 0) return;
  for (size_t s = 0; s < slots; ++s) offsets[s + 1] += offsets[s];
  std::vector<uint32_t> items(offsets[slots]);
  std::vector<uint64_t> fill(offsets.begin(), offsets.end() - 1);
  for (size_t s = 0; s < slots; ++s) {
    for (uint64_t k = offsets_[s]; k < offsets_[s + 1]; ++k) items[fill[s]++] = seen_items_[k];
  }
  seen_items_ = std::vector<uint32_t>();
  for_each_pair([&](uint32_t slot, uint32_t item) { items[fill[slot]++] = item; });
  fill = {};
  // Sorted and unique per user; the lists shrink in place.
  uint64_t out = 0;
  for (size_t s = 0; s < slots; ++s) {
    auto begin = items.begin() + offsets[s];
    auto end = items.begin() + offsets[s + 1];
    std::sort(begin, end);
    end = std::unique(begin, end);
    offsets[s] = out;
    out = std::copy(begin, end, items.begin() + out) - items.begin();
  }
  offsets[slots] = out;
  items.resize(out);
  seen_items_ = std::move(items);
  offsets_ = std::move(offsets);
}

absl::Span<const uint32_t> NegativeSampler::SeenBy(uint64_t user) const {
  auto it = user_slot_.find(user);
  if (it == user_slot_.end()) return {};
  return absl::Span<const uint32_t>(seen_items_.data() + offsets_[it->second],
                                    offsets_[it->second + 1] - offsets_[it->second]);
}

bool NegativeSampler::Seen(uint64_t user, uint64_t item) const {
  auto it = item_index_.find(item);
  if (it == item_index_.end()) return false;
  absl::Span<const uint32_t> seen = SeenBy(user);
  return std::binary_search(seen.begin(), seen.end(), it->second);
}

uint32_t NegativeSampler::SampleIndex(uint64_t user, CounterRng& rng) const {
  const absl::Span<const uint32_t> seen = SeenBy(user);
  uint32_t index = 0;
  for (int tries = 0; tries < 64; ++tries) {
    index = static_cast<uint32_t>(rng.Next() % items_.size());
    if (!std::binary_search(seen.begin(), seen.end(), index)) return index;
  }
  return index;
}

}  // namespace psrec
