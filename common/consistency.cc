#include "common/consistency.h"

#include "absl/strings/str_format.h"

namespace psrec {

absl::StatusOr<Consistency> ParseConsistency(const std::string& name) {
  if (name.empty() || name == "asp") return Consistency::kAsp;
  if (name == "ssp") return Consistency::kSsp;
  if (name == "bsp") return Consistency::kBsp;
  return absl::InvalidArgumentError(
      absl::StrFormat("--consistency=%s: valid: asp, ssp, bsp", name));
}

const char* ConsistencyName(Consistency c) {
  switch (c) {
    case Consistency::kSsp:
      return "ssp";
    case Consistency::kBsp:
      return "bsp";
    case Consistency::kAsp:
      break;
  }
  return "asp";
}

}  // namespace psrec
