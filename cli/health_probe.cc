#include "cli/health_probe.h"

#include <cstdio>
#include <thread>

#include "common/health.h"

namespace psrec {

int RunHealth(const HealthOptions& options) {
  const absl::Time give_up = absl::Now() + options.wait;
  while (true) {
    absl::StatusOr<std::string> status =
        CheckHealth(options.target, options.service, options.probe_timeout, options.rpc);
    if (status.ok() && *status == "SERVING") {
      std::printf("SERVING\n");
      return 0;
    }
    if (absl::Now() >= give_up) {
      if (status.ok()) {
        std::printf("%s\n", status->c_str());
      } else {
        std::printf("DOWN\n");
        std::fprintf(stderr, "psrec health: %s\n", std::string(status.status().message()).c_str());
      }
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace psrec
