// The Prometheus text format: HELP and TYPE once per family, cumulative
// histogram buckets ending in +Inf, _sum and _count, scrape-time samples.
#include "common/prometheus.h"

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

}  // namespace
}  // namespace psrec
