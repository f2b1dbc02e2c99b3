// Per-method request counts, failures, latencies and rows (keys of a pull or
// a push) of a gRPC server, recorded by a server interceptor so that the
// services themselves stay free of bookkeeping.
#ifndef PSREC_COMMON_RPC_METRICS_H_
#define PSREC_COMMON_RPC_METRICS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/prometheus.h"
#include "common/rpc_auth.h"
#include "common/rpc_options.h"

namespace grpc {
class Server;
class Service;
namespace experimental {
class ServerInterceptorFactoryInterface;
}  // namespace experimental
}  // namespace grpc

namespace psrec {

class RpcMetrics {
 public:
  struct Method {
    Counter* ok = nullptr;
    Counter* failed = nullptr;  // any status but OK: refused, unavailable, ...
    Counter* rows = nullptr;    // keys pulled or pushed (Pull and Push only)
    Histogram* latency = nullptr;
  };

  // Registers the series of every method of `services` (full protobuf
  // names, e.g. "psrec.rpc.ParameterServer") in `registry`, which must
  // outlive this.
  RpcMetrics(PrometheusRegistry* registry, const std::vector<std::string>& services);

  // nullptr for a method of no registered service (health checks).
  const Method* Find(const std::string& full_method) const;

  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeInterceptorFactory()
      const;

  // Calls refused for their token (counted by the TLS layer's token check).
  AuthRefusalCounters auth_refusals() const { return {no_token_, wrong_token_}; }
  // Calls of a recorded method answered INVALID_ARGUMENT or RESOURCE_EXHAUSTED.
  Counter* invalid_argument() const { return invalid_argument_; }
  Counter* resource_exhausted() const { return resource_exhausted_; }

 private:
  std::map<std::string, Method> methods_;  // "/package.Service/Method"; fixed after construction
  Counter* no_token_ = nullptr;
  Counter* wrong_token_ = nullptr;
  Counter* invalid_argument_ = nullptr;
  Counter* resource_exhausted_ = nullptr;
};

// StartGrpcServer (common/rpc_util.h) with `metrics` recording every call
// and every refused token (may be null: no recording).
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServerWithMetrics(
    const std::string& host, int port, const std::vector<grpc::Service*>& services, int* bound_port,
    const RpcMetrics* metrics, const RpcOptions& rpc);

}  // namespace psrec

#endif  // PSREC_COMMON_RPC_METRICS_H_
