// Consistency models of a run (Li et al. 2014, section 4.2) and the clock
// tags that order bsp pushes on the servers. A clock is one mini-batch per
// worker: pull, compute, push.
#ifndef PSREC_COMMON_CONSISTENCY_H_
#define PSREC_COMMON_CONSISTENCY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace psrec {

enum class Consistency {
  kAsp,  // never waits (the default)
  kSsp,  // the fastest worker at most `staleness` clocks ahead of the slowest
  kBsp,  // every worker waits for every other at each clock; deterministic
};

// "asp", "ssp" or "bsp" ("" is asp); an error naming the flag otherwise.
absl::StatusOr<Consistency> ParseConsistency(const std::string& name);
const char* ConsistencyName(Consistency c);

// Clocks a worker may run ahead of the slowest: 0 for bsp, `staleness` for
// ssp; asp has no barrier at all.
inline uint32_t AllowedLead(Consistency c, uint32_t staleness) {
  return c == Consistency::kSsp ? staleness : 0;
}

// Wire tag of (epoch, clock within the epoch): increasing across epochs, and
// never 0, which means "no clock" (asp and ssp requests).
inline uint64_t ClockTag(uint32_t epoch, uint64_t clock) {
  return ((static_cast<uint64_t>(epoch) << 32) | (clock & 0xffffffffULL)) + 1;
}

}  // namespace psrec

#endif  // PSREC_COMMON_CONSISTENCY_H_
