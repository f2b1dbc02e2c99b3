#include "common/validation_split.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/hash.h"

namespace psrec {
namespace {

// Stream tags of the CounterRng draws, so the split's randomness never
// coincides with initialisation, shuffling or training negatives.
constexpr uint64_t kNegativesStream = 0x76616c6e6567ULL;  // "valneg"
constexpr uint64_t kFractionStream = 0x76616c667263ULL;   // "valfrc"

// `want` distinct items of `universe` (sorted, unique) that are not in
// `seen` (sorted, unique), drawn from a stream of the user alone so the
// result does not depend on the order users are visited in.
std::vector<uint64_t> SampleUnseen(const std::vector<uint64_t>& universe,
                                   const std::vector<uint64_t>& seen, uint32_t negatives,
                                   uint64_t seed, uint64_t user) {
  CounterRng rng(seed, kNegativesStream, user);
  const size_t free = universe.size() - seen.size();
  const size_t want = std::min<size_t>(negatives, free);
  std::vector<uint64_t> out;
  out.reserve(want);
  auto is_seen = [&](uint64_t item) { return std::binary_search(seen.begin(), seen.end(), item); };
  if (free >= 2 * want) {
    absl::flat_hash_set<uint64_t> chosen;
    while (out.size() < want) {
      const uint64_t item = universe[rng.Next() % universe.size()];
      if (is_seen(item) || !chosen.insert(item).second) continue;
      out.push_back(item);
    }
    return out;
  }
  // A user who saw most of the catalogue: rejection would spin, so shuffle
  // the complement instead.
  std::vector<uint64_t> complement;
  complement.reserve(free);
  for (uint64_t item : universe) {
    if (!is_seen(item)) complement.push_back(item);
  }
  for (size_t i = 0; i < want; ++i) {
    std::swap(complement[i], complement[i + rng.Next() % (free - i)]);
    out.push_back(complement[i]);
  }
  return out;
}

ValidationSplit SplitRanking(std::vector<Interaction> data, const ValidationSplitOptions& o) {
  struct UserFacts {
    size_t latest = 0;  // index of the latest interaction
    size_t count = 0;
    std::vector<uint64_t> items;
  };
  absl::flat_hash_map<uint64_t, UserFacts> users;
  std::vector<uint64_t> universe;
  universe.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    const Interaction& x = data[i];
    UserFacts& u = users[x.user];
    // >=: among equal timestamps the later line is the later interaction.
    if (u.count == 0 || x.timestamp >= data[u.latest].timestamp) u.latest = i;
    ++u.count;
    u.items.push_back(x.item);
    universe.push_back(x.item);
  }
  std::sort(universe.begin(), universe.end());
  universe.erase(std::unique(universe.begin(), universe.end()), universe.end());

  std::vector<bool> held_out(data.size(), false);
  absl::flat_hash_set<std::pair<uint64_t, uint64_t>> held_pairs;
  for (auto& [user, u] : users) {
    if (u.count < 2) continue;
    held_out[u.latest] = true;
    held_pairs.insert({user, data[u.latest].item});
  }
  ValidationSplit split;
  split.train.reserve(data.size() - held_pairs.size());
  for (size_t i = 0; i < data.size(); ++i) {
    const Interaction& x = data[i];
    if (held_out[i]) {
      UserFacts& u = users[x.user];
      std::sort(u.items.begin(), u.items.end());
      u.items.erase(std::unique(u.items.begin(), u.items.end()), u.items.end());
      RankingCase& c = split.cases.emplace_back();
      c.user = x.user;
      c.test_item = x.item;
      c.negatives = SampleUnseen(universe, u.items, o.negatives, o.seed, x.user);
      split.validation.push_back(x);
    } else if (!held_pairs.contains({x.user, x.item})) {
      split.train.push_back(x);
    }
  }
  return split;
}

ValidationSplit SplitRating(std::vector<Interaction> data, const ValidationSplitOptions& o) {
  const size_t n = data.size();
  const double fraction = std::clamp(o.fraction, 0.0, 1.0);
  const size_t k = std::min<size_t>(n, static_cast<size_t>(std::llround(fraction * n)));
  // Partial Fisher-Yates: the first k positions of a seeded shuffle.
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  CounterRng rng(o.seed, kFractionStream, 0);
  std::vector<bool> held_out(n, false);
  for (size_t i = 0; i < k; ++i) {
    std::swap(order[i], order[i + rng.Next() % (n - i)]);
    held_out[order[i]] = true;
  }
  ValidationSplit split;
  split.train.reserve(n - k);
  split.validation.reserve(k);
  for (size_t i = 0; i < n; ++i) (held_out[i] ? split.validation : split.train).push_back(data[i]);
  return split;
}

}  // namespace

ValidationSplit SplitValidation(std::vector<Interaction> data,
                                const ValidationSplitOptions& options) {
  return options.ranking ? SplitRanking(std::move(data), options)
                         : SplitRating(std::move(data), options);
}

}  // namespace psrec
