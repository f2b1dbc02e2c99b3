// `psrec worker`: leases data shards from the coordinator and trains on them.
#ifndef PSREC_WORKER_WORKER_MAIN_H_
#define PSREC_WORKER_WORKER_MAIN_H_

#include <string>

#include "absl/time/time.h"
#include "common/rpc_options.h"

namespace psrec {

struct WorkerOptions {
  std::string coordinator;  // host:port
  // The worker's own gRPC server carries only the health service, so that
  // orchestrators can probe a worker like any other role.
  std::string host = "127.0.0.1";
  int port = 0;       // 0: the OS chooses
  int ready_fd = -1;  // where to report the bound port
  // The id to register under (an Indexed Job's completion index), taking
  // over the leases of a dead worker with that id; -1: a new id.
  int worker_index = -1;
  int metrics_port = -1;  // Prometheus endpoint; 0: the OS chooses, -1: none
  // How long an unreachable server or coordinator is retried before the
  // worker fails with an error naming its address.
  absl::Duration retry_budget = absl::Seconds(30);
  absl::Duration shard_map_timeout = absl::Seconds(60);
  RpcOptions rpc;  // TLS, token and limits of its health server and its channels
};

// Returns the process exit code: 0 when the coordinator says the run is done.
int RunWorker(const WorkerOptions& options);

}  // namespace psrec

#endif  // PSREC_WORKER_WORKER_MAIN_H_
