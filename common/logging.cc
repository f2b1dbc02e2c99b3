#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace psrec {

absl::Status InitLogging(const std::string& role, const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--log_level=", level, ": unknown level; valid: trace, debug, info, warn, error, off"));
  }
  auto logger = spdlog::stderr_color_mt("psrec");
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  SetLogRole(role);
  return absl::OkStatus();
}

void SetLogRole(const std::string& role) {
  spdlog::set_pattern(absl::StrCat("[%H:%M:%S.%e] [", role, "] [%l] %v"));
}

}  // namespace psrec
