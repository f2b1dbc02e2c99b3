#include "common/shard_map.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_format.h"
#include "common/hash.h"

namespace psrec {

Ring Ring::Build(uint32_t num_servers, uint32_t vnodes) {
  std::vector<std::pair<uint64_t, uint32_t>> points;
  points.reserve(static_cast<size_t>(num_servers) * vnodes);
  for (uint32_t s = 0; s < num_servers; ++s) {
    for (uint32_t v = 0; v < vnodes; ++v) {
      points.emplace_back(Mix64(Mix64(0x72696e67ULL + s) ^ (v * 0x9e3779b97f4a7c15ULL)), s);
    }
  }
  std::sort(points.begin(), points.end());
  Ring ring;
  ring.num_servers_ = num_servers;
  for (const auto& [pos, owner] : points) {
    ring.positions_.push_back(pos);
    ring.owners_.push_back(owner);
  }
  return ring;
}

absl::StatusOr<Ring> Ring::FromParts(std::vector<uint64_t> positions,
                                     std::vector<uint32_t> owners,
                                     uint32_t num_servers) {
  if (positions.size() != owners.size() || positions.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "shard map: %d ring positions but %d owners", positions.size(), owners.size()));
  }
  if (!std::is_sorted(positions.begin(), positions.end())) {
    return absl::InvalidArgumentError("shard map: ring positions are not sorted");
  }
  for (uint32_t o : owners) {
    if (o >= num_servers) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "shard map: owner %d but only %d servers", o, num_servers));
    }
  }
  Ring ring;
  ring.positions_ = std::move(positions);
  ring.owners_ = std::move(owners);
  ring.num_servers_ = num_servers;
  return ring;
}

uint32_t Ring::OwnerOfHash(uint64_t h) const {
  auto it = std::lower_bound(positions_.begin(), positions_.end(), h);
  if (it == positions_.end()) return owners_.front();
  return owners_[it - positions_.begin()];
}

uint32_t Ring::Owner(uint32_t table, uint64_t id) const {
  if (num_servers_ == 1) return 0;
  return OwnerOfHash(KeyHash(table, id));
}

std::vector<double> Ring::OwnedFractions() const {
  std::vector<double> frac(num_servers_, 0.0);
  if (positions_.empty()) return frac;
  // One virtual node owns the whole ring, an arc of 2^64 that uint64 cannot hold.
  if (positions_.size() == 1) {
    frac[owners_[0]] = 1.0;
    return frac;
  }
  const double scale = 1.0 / 18446744073709551616.0;
  // Arc (prev, pos] belongs to the owner of pos; the first arc wraps.
  for (size_t i = 0; i < positions_.size(); ++i) {
    uint64_t prev = i == 0 ? positions_.back() : positions_[i - 1];
    uint64_t len = positions_[i] - prev;  // wraps correctly for i == 0
    frac[owners_[i]] += static_cast<double>(len) * scale;
  }
  return frac;
}

}  // namespace psrec
