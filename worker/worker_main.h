// `psrec worker`: leases data shards from the coordinator and trains on them.
#ifndef PSREC_WORKER_WORKER_MAIN_H_
#define PSREC_WORKER_WORKER_MAIN_H_

#include <string>

#include "absl/time/time.h"

namespace psrec {

struct WorkerOptions {
  std::string coordinator;  // host:port
  // How long an unreachable server or coordinator is retried before the
  // worker fails with an error naming its address.
  absl::Duration retry_budget = absl::Seconds(30);
  absl::Duration shard_map_timeout = absl::Seconds(60);
};

// Returns the process exit code: 0 when the coordinator says the run is done.
int RunWorker(const WorkerOptions& options);

}  // namespace psrec

#endif  // PSREC_WORKER_WORKER_MAIN_H_
