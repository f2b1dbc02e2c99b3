#include "common/recency.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"

namespace psrec {

absl::Status ValidateRecency(const RecencyOptions& o) {
  if (!(o.weight >= 0) || !std::isfinite(o.weight) || o.weight > 1e6f) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--recency_weight=%g: must be between 0 (off) and 1e6; the latest interaction of each "
        "user counts 1 + this",
        o.weight));
  }
  if (!(o.halflife > 0) || !std::isfinite(o.halflife)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--recency_halflife=%g: must be a positive number of interactions", o.halflife));
  }
  return absl::OkStatus();
}

std::vector<float> RecencyWeights(absl::Span<const uint32_t> users,
                                  absl::Span<const int64_t> timestamps, const RecencyOptions& o) {
  const size_t n = users.size();
  std::vector<float> weights(n, 1.0f);
  if (!o.enabled() || n == 0) return weights;
  // Each user's timestamps, sorted: k of a row is how many lie above its own.
  absl::flat_hash_map<uint32_t, std::vector<int64_t>> times;
  for (size_t i = 0; i < n; ++i) times[users[i]].push_back(timestamps[i]);
  for (auto& [user, t] : times) std::sort(t.begin(), t.end());
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::vector<int64_t>& t = times[users[i]];
    const size_t later = t.end() - std::upper_bound(t.begin(), t.end(), timestamps[i]);
    weights[i] = 1.0f + o.weight * static_cast<float>(std::exp2(-(later / o.halflife)));
    sum += weights[i];
  }
  const float scale = static_cast<float>(n / sum);
  for (float& w : weights) w *= scale;
  return weights;
}

}  // namespace psrec
