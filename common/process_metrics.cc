#include "common/process_metrics.h"

namespace psrec {

absl::StatusOr<std::unique_ptr<ProcessMetrics>> ProcessMetrics::Start(
    const std::string& host, int port, const std::vector<std::string>& services) {
  std::unique_ptr<ProcessMetrics> m(new ProcessMetrics());
  if (port < 0) return m;
  m->rpc_ = std::make_unique<RpcMetrics>(&m->registry_, services);
  auto http = MetricsHttpServer::Start(host, port, &m->registry_);
  if (!http.ok()) return http.status();
  m->http_ = std::move(*http);
  m->serving_ = true;
  return m;
}

}  // namespace psrec
