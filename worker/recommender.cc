#include "worker/recommender.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace psrec {

Recommender::Recommender(const Model* model, PsClient* ps, std::vector<uint64_t> candidates)
    : assembler_(model, ps), model_(model), candidates_(std::move(candidates)) {}

absl::StatusOr<std::vector<ScoredItem>> Recommender::TopK(
    uint64_t user, size_t k, const absl::flat_hash_set<uint64_t>& exclude) {
  items_.clear();
  for (uint64_t item : candidates_) {
    if (!exclude.contains(item)) items_.push_back(item);
  }
  scores_.resize(items_.size());
  for (size_t begin = 0; begin < items_.size(); begin += kBatch) {
    const size_t n = std::min(kBatch, items_.size() - begin);
    users_.assign(n, user);
    auto s = assembler_.Gather(users_, absl::MakeConstSpan(items_.data() + begin, n),
                               /*read_only=*/true);
    if (!s.ok()) return s;
    model_->Score(assembler_.View(/*labels=*/nullptr), scores_.data() + begin);
  }
  std::vector<ScoredItem> ranked(items_.size());
  for (size_t i = 0; i < items_.size(); ++i) ranked[i] = {items_[i], scores_[i]};
  // NaN would break the ordering std::partial_sort relies on: it ranks last.
  auto key = [](float score) {
    return std::isnan(score) ? -std::numeric_limits<float>::infinity() : score;
  };
  k = std::min(k, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + k, ranked.end(),
                    [&](const ScoredItem& a, const ScoredItem& b) {
                      const float ka = key(a.score), kb = key(b.score);
                      return ka != kb ? ka > kb : a.item < b.item;
                    });
  ranked.resize(k);
  return ranked;
}

}  // namespace psrec
