// `psrec health --target=HOST:PORT`: a grpc.health.v1 probe for scripts and
// container HEALTHCHECKs (grpc_health_probe is not packaged in Debian).
#ifndef PSREC_CLI_HEALTH_PROBE_H_
#define PSREC_CLI_HEALTH_PROBE_H_

#include "cli/options.h"

namespace psrec {

// Prints the target's status (SERVING, NOT_SERVING, ...) on stdout. Exit code
// 0 when SERVING, 1 otherwise (not serving, unreachable, no health service).
// With a wait, asks again every 100 ms until SERVING or the wait is over.
int RunHealth(const HealthOptions& options);

}  // namespace psrec

#endif  // PSREC_CLI_HEALTH_PROBE_H_
