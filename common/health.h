// The standard gRPC health protocol (grpc.health.v1.Health) on every role:
// what orchestrators (Kubernetes grpc probes, `psrec health`, the deploy
// scripts) ask to learn whether a process is ready for work.
//
// Every server built by StartGrpcServer (common/rpc_util.h) carries gRPC's
// built-in health service and starts NOT_SERVING; the role marks itself
// SERVING once it can do its job (a parameter server once its shard is
// configured, a worker once it has joined, the coordinator once it listens
// with the run's facts computed).
#ifndef PSREC_COMMON_HEALTH_H_
#define PSREC_COMMON_HEALTH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc_options.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace psrec {

// Must run before a grpc::ServerBuilder builds the server. Idempotent.
void EnableHealthService();

// Sets the status of the whole process (service "") and of every named
// service. No-op when the server has no health service.
void SetServing(grpc::Server* server, bool serving);

// Asks `target` (HOST:PORT) for the status of `service` ("" = the process)
// within `timeout`, over a channel secured as `rpc` says. Returns "SERVING", "NOT_SERVING", "UNKNOWN" or
// "SERVICE_UNKNOWN"; an error status when the call fails (unreachable,
// deadline, or the target has no health service: UNIMPLEMENTED).
absl::StatusOr<std::string> CheckHealth(const std::string& target, const std::string& service,
                                        absl::Duration timeout, const RpcOptions& rpc);

}  // namespace psrec

#endif  // PSREC_COMMON_HEALTH_H_
