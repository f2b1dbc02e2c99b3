// One process's metrics endpoint: the registry its parts record into, the
// recording of its gRPC calls, and the HTTP server Prometheus scrapes.
#ifndef PSREC_COMMON_PROCESS_METRICS_H_
#define PSREC_COMMON_PROCESS_METRICS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/metrics_http_server.h"
#include "common/prometheus.h"
#include "common/rpc_metrics.h"

namespace psrec {

class ProcessMetrics {
 public:
  // Serves on `host`:`port` (0: the OS chooses); port < 0 serves nothing and
  // records no calls, but registry() still works. `services` are the full
  // protobuf names of the gRPC services whose calls are recorded.
  static absl::StatusOr<std::unique_ptr<ProcessMetrics>> Start(
      const std::string& host, int port, const std::vector<std::string>& services);

  PrometheusRegistry* registry() { return &registry_; }
  // nullptr when not serving.
  const RpcMetrics* rpc() const { return serving_ ? rpc_.get() : nullptr; }
  // The bound port; 0 when not serving.
  int port() const { return http_ ? http_->port() : 0; }

 private:
  ProcessMetrics() = default;
  PrometheusRegistry registry_;
  std::unique_ptr<RpcMetrics> rpc_;
  std::unique_ptr<MetricsHttpServer> http_;
  bool serving_ = false;
};

}  // namespace psrec

#endif  // PSREC_COMMON_PROCESS_METRICS_H_
