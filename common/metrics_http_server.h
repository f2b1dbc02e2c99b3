// Serves a PrometheusRegistry over HTTP (GET /metrics; libmicrohttpd, with its
// own thread) so that Prometheus, or curl, can scrape any psrec process.
#ifndef PSREC_COMMON_METRICS_HTTP_SERVER_H_
#define PSREC_COMMON_METRICS_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/prometheus.h"

struct MHD_Daemon;

namespace psrec {

class MetricsHttpServer {
 public:
  // Listens on `host`:`port` (port 0: the OS chooses; port() tells which).
  // `registry` must outlive the server. An error names the address.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& host, int port, const PrometheusRegistry* registry);
  ~MetricsHttpServer();  // stops serving
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }

 private:
  MetricsHttpServer(MHD_Daemon* daemon, int port) : daemon_(daemon), port_(port) {}
  MHD_Daemon* daemon_;
  int port_;
};

}  // namespace psrec

#endif  // PSREC_COMMON_METRICS_HTTP_SERVER_H_
