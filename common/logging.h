// One log format for every role: time, role and id, level, message.
#ifndef PSREC_COMMON_LOGGING_H_
#define PSREC_COMMON_LOGGING_H_

#include <string>

#include <fmt/format.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace psrec {

// Sets spdlog's pattern to carry `role` (e.g. "server 1") and the level
// (trace|debug|info|warn|error|off); InvalidArgument for an unknown level.
absl::Status InitLogging(const std::string& role, const std::string& level);
// Updates the role shown on every line (once a server or worker knows its id).
void SetLogRole(const std::string& role);

}  // namespace psrec

// Lets spdlog format Abseil's string_view (Debian's Abseil has its own type).
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename Context>
  auto format(absl::string_view s, Context& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

#endif  // PSREC_COMMON_LOGGING_H_
