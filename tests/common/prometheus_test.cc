// The Prometheus text format: HELP and TYPE once per family, cumulative
// histogram buckets ending in +Inf, _sum and _count, scrape-time samples.
#include "common/prometheus.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/metrics_http_server.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

TEST(PrometheusTest, CountersOfOneFamilyShareTheirHeader) {
  PrometheusRegistry r;
  r.AddCounter("psrec_x_total", "Xs.", "m=\"a\"")->Add(3);
  r.AddCounter("psrec_x_total", "Xs.", "m=\"b\"")->Add();
  EXPECT_EQ(r.Render(),
            "# HELP psrec_x_total Xs.\n# TYPE psrec_x_total counter\n"
            "psrec_x_total{m=\"a\"} 3\npsrec_x_total{m=\"b\"} 1\n");
}

TEST(PrometheusTest, HistogramBucketsAreCumulative) {
  PrometheusRegistry r;
  Histogram* h = r.AddHistogram("psrec_t_seconds", "T.", "", {0.1, 1});
  h->Observe(0.05);
  h->Observe(0.1);  // le is inclusive
  h->Observe(0.5);
  h->Observe(7);
  EXPECT_EQ(r.Render(),
            "# HELP psrec_t_seconds T.\n# TYPE psrec_t_seconds histogram\n"
            "psrec_t_seconds_bucket{le=\"0.10000000000000001\"} 2\n"
            "psrec_t_seconds_bucket{le=\"1\"} 3\n"
            "psrec_t_seconds_bucket{le=\"+Inf\"} 4\n"
            "psrec_t_seconds_sum 7.6500000000000004\n"
            "psrec_t_seconds_count 4\n");
}

TEST(PrometheusTest, CollectorsRunAtEveryScrape) {
  PrometheusRegistry r;
  int scrapes = 0;
  r.AddCollector("psrec_rows", "Rows.", PrometheusRegistry::Type::kGauge,
                 [&scrapes](std::vector<Sample>* out) {
                   ++scrapes;
                   out->push_back({"table=\"user\"", 10.0 * scrapes});
                 });
  EXPECT_TRUE(
      absl::StrContains(r.Render(), "# TYPE psrec_rows gauge\npsrec_rows{table=\"user\"} 10\n"));
  EXPECT_TRUE(absl::StrContains(r.Render(), "psrec_rows{table=\"user\"} 20\n"));
}

// The whole HTTP response to `GET path`, or "" when the connection fails.
std::string Get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
    }
  }
  ::close(fd);
  return response;
}

TEST(MetricsHttpServerTest, ServesTheRegistryOnAnOsChosenPort) {
  PrometheusRegistry r;
  r.AddCounter("psrec_x_total", "Xs.")->Add(7);
  auto server = MetricsHttpServer::Start("localhost", 0, &r);  // a name, resolved
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  const std::string ok = Get((*server)->port(), "/metrics");
  EXPECT_TRUE(absl::StrContains(ok, " 200 ")) << ok;
  EXPECT_TRUE(absl::StrContains(ok, "Content-Type: text/plain; version=0.0.4")) << ok;
  EXPECT_TRUE(absl::StrContains(ok, "\r\n\r\n# HELP psrec_x_total Xs.\n")) << ok;
  EXPECT_TRUE(absl::StrContains(ok, "\npsrec_x_total 7\n")) << ok;
  EXPECT_TRUE(absl::StrContains(Get((*server)->port(), "/elsewhere"), " 404 "));
}

TEST(MetricsHttpServerTest, AHostWithoutAnAddressIsAnError) {
  PrometheusRegistry r;
  auto server = MetricsHttpServer::Start("no-such-host.invalid", 0, &r);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::StrContains(server.status().message(), "--host=no-such-host.invalid"))
      << server.status();
}

}  // namespace
}  // namespace psrec
