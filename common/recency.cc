#include "common/recency.h"

#include <cmath>

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

}  // namespace psrec
