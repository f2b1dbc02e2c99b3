// `psrec server`: one parameter-server shard as its own process.
#ifndef PSREC_SERVER_SERVER_MAIN_H_
#define PSREC_SERVER_SERVER_MAIN_H_

#include <string>

#include "absl/time/time.h"
#include "common/rpc_options.h"

namespace psrec {

struct ServerOptions {
  std::string coordinator;            // host:port of the coordinator
  std::string host = "127.0.0.1";     // address to listen on
  std::string advertise_host;         // address workers dial; default = host
  int port = 0;                       // 0: the OS chooses
  int ready_fd = -1;                  // where to report the bound port
  int shard_index = -1;               // the shard to hold (-1: whichever is free)
  int metrics_port = -1;              // Prometheus endpoint; 0: the OS chooses, -1: none
  absl::Duration coordinator_timeout = absl::Seconds(30);
  RpcOptions rpc;  // TLS, token and limits of its server and its channels
  // Where this server's checkpoints go ("": the coordinator's --checkpoint_dir).
  std::string checkpoint_dir;
};

// Serves until SIGTERM/SIGINT, a Shutdown RPC, the coordinator saying the run
// is over, or the coordinator being unreachable for coordinator_timeout.
// Before serving, restores the checkpoint the coordinator names; on
// SIGTERM/SIGINT, finishes the requests in flight and writes a final snapshot
// (server/checkpoint_store.h). Returns the process exit code.
int RunServer(const ServerOptions& options);

}  // namespace psrec

#endif  // PSREC_SERVER_SERVER_MAIN_H_
