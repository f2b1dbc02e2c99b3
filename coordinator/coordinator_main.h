// `psrec coordinator`: membership, shard map, leases and progress of a run.
#ifndef PSREC_COORDINATOR_COORDINATOR_MAIN_H_
#define PSREC_COORDINATOR_COORDINATOR_MAIN_H_

#include <string>

#include "absl/time/time.h"
#include "common/rpc_options.h"
#include "coordinator/checkpoint_rounds.h"
#include "coordinator/coordinator_state.h"
#include "proto/psrec.pb.h"

namespace psrec {

struct CoordinatorOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  int ready_fd = -1;
  int metrics_port = -1;  // Prometheus endpoint; 0: the OS chooses, -1: none
  uint32_t expected_servers = 2;
  LeaseOptions lease;
  rpc::RunConfig config;  // dataset facts are filled in from the training file
  // Standalone runs end by themselves: save the model (if model_out), tell
  // servers and workers to stop, linger, exit. Under `psrec train` the driver
  // does this instead.
  bool exit_when_done = true;
  std::string model_out;
  absl::Duration linger = absl::Seconds(3);
  RpcOptions rpc;  // TLS, token and limits of its server and its channels
  CheckpointOptions checkpoint;  // dir "": off
};

int RunCoordinator(const CoordinatorOptions& options);

}  // namespace psrec

#endif  // PSREC_COORDINATOR_COORDINATOR_MAIN_H_
