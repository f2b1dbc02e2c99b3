#include "worker/implicit_feedback.h"

#include <algorithm>
#include <cmath>

namespace psrec {

ImplicitFeedback::ImplicitFeedback(absl::Span<const Interaction> train) {
  for (const Interaction& x : train) items_[x.user].push_back(x.item);
  SortAndDedupe();
}

ImplicitFeedback::ImplicitFeedback(absl::Span<const ShardView> shards) {
  for (const ShardView& shard : shards) {
    for (size_t i = 0; i < shard.size(); ++i) items_[shard.user(i)].push_back(shard.item(i));
  }
  SortAndDedupe();
}

void ImplicitFeedback::SortAndDedupe() {
  for (auto& [user, items] : items_) {
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
  }
}

absl::Span<const uint64_t> ImplicitFeedback::Items(uint64_t user) const {
  auto it = items_.find(user);
  if (it == items_.end()) return {};
  return it->second;
}

float ImplicitNorm(size_t n) {
  return n == 0 ? 0.0f : static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
}

void AddImplicitTerm(absl::Span<const float* const> y_rows, uint32_t dim, float* factors) {
  if (y_rows.empty()) return;
  const float norm = ImplicitNorm(y_rows.size());
  for (uint32_t d = 0; d < dim; ++d) {
    float sum = 0.0f;
    for (const float* y : y_rows) sum += y[d];
    factors[d] += norm * sum;
  }
}

}  // namespace psrec
