// Retrying calls that failed because a peer is not (yet) reachable.
#ifndef PSREC_COMMON_RETRY_H_
#define PSREC_COMMON_RETRY_H_

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace psrec {

// Calls `call()` (returning absl::Status) until it succeeds, fails with
// anything but UNAVAILABLE/DEADLINE_EXCEEDED, or `budget` has passed; waits
// 10 ms, 20 ms, ... up to 1 s between tries. The final error names `peer`.
template <typename Call>
absl::Status RetryWhileUnavailable(absl::Duration budget, const std::string& peer, Call call) {
  const absl::Time give_up = absl::Now() + budget;
  absl::Duration backoff = absl::Milliseconds(10);
  for (;;) {
    absl::Status s = call();
    if (s.ok() || (!absl::IsUnavailable(s) && !absl::IsDeadlineExceeded(s))) return s;
    if (absl::Now() + backoff > give_up) {
      return absl::UnavailableError(absl::StrCat("cannot reach ", peer, " (gave up after ",
                                                 absl::FormatDuration(budget),
                                                 "): ", s.message()));
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
}

}  // namespace psrec

#endif  // PSREC_COMMON_RETRY_H_
