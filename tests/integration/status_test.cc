// `psrec status` against a live local cluster (coordinator, one server, one
// worker as processes): the JSON parses and describes what runs; every
// process's metrics endpoint, found through status, serves Prometheus text.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/child_process.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using testing_util::RunPsrec;

struct Started {
  std::unique_ptr<ChildProcess> process;
  std::string address;
};

Started Start(const std::string& name, const std::vector<std::string>& args) {
  auto child = ChildProcess::Spawn(name, args, PSREC_BINARY);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return {};
  Started s{std::make_unique<ChildProcess>(std::move(*child)), ""};
  auto port = s.process->WaitForPort(absl::Seconds(60));
  EXPECT_TRUE(port.ok()) << port.status();
  if (port.ok()) s.address = absl::StrCat("127.0.0.1:", *port);
  return s;
}

const Value& Field(const Struct& s, const std::string& name) {
  static const Value kMissing;
  auto it = s.fields().find(name);
  EXPECT_TRUE(it != s.fields().end()) << "no field " << name;
  return it == s.fields().end() ? kMissing : it->second;
}

class LiveClusterTest : public ::testing::Test {
 protected:
  void SetUp() override { StartCluster(); }
  void StartCluster();

  std::string train;
  Started coordinator, server, worker;
  Struct report;  // the JSON of `psrec status` once a shard is complete
};

void LiveClusterTest::StartCluster() {
  const std::string dir = testing_util::MakeTempDir("status");
  train = dir + "/train.rating";
  {
    std::ofstream f(train);
    for (int u = 1; u <= 200; ++u) {
      for (int i = 0; i < 10; ++i) f << u << "\t" << (u * 7 + i * 13) % 97 + 1 << "\t1\t0\n";
    }
  }
  // A run that outlasts the test.
  coordinator = Start("coordinator", {"coordinator", "--train=" + train, "--servers=1", "--dim=4",
                                      "--epochs=100000", "--log_level=warn"});
  ASSERT_FALSE(coordinator.address.empty());
  server = Start("server", {"server", "--coordinator=" + coordinator.address, "--log_level=warn"});
  ASSERT_FALSE(server.address.empty());
  worker = Start("worker", {"worker", "--coordinator=" + coordinator.address, "--log_level=warn"});
  ASSERT_FALSE(worker.address.empty());

  // Wait until the worker has finished a shard, so every part has content.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  for (;;) {
    auto r = RunPsrec({"status", "--coordinator=" + coordinator.address, "--json"}, 30);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    report.Clear();
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) << r.out;
    const auto& workers = Field(report, "workers").list_value();
    if (workers.values_size() == 1 &&
        Field(workers.values(0).struct_value(), "shards_completed").number_value() > 0) {
      break;
    }
    ASSERT_LT(absl::Now(), give_up) << "no shard completed: " << r.out;
    absl::SleepFor(absl::Milliseconds(200));
  }
}

TEST_F(LiveClusterTest, StatusJsonDescribesTheCluster) {
  const Struct& coord = Field(report, "coordinator").struct_value();
  EXPECT_EQ(Field(coord, "address").string_value(), coordinator.address);
  EXPECT_EQ(Field(coord, "health").string_value(), "SERVING");

  const Struct& run = Field(report, "run").struct_value();
  EXPECT_EQ(Field(run, "model").string_value(), "gmf");
  EXPECT_EQ(Field(run, "train").string_value(), train);
  EXPECT_FALSE(Field(run, "done").bool_value());
  EXPECT_EQ(Field(run, "servers").number_value(), 1);
  EXPECT_EQ(Field(run, "expected_servers").number_value(), 1);
  EXPECT_EQ(Field(run, "workers").number_value(), 1);
  EXPECT_EQ(Field(run, "epochs").number_value(), 100000);
  EXPECT_GE(Field(run, "data_shards").number_value(), 1);

  const auto& servers = Field(report, "servers").list_value();
  ASSERT_EQ(servers.values_size(), 1);
  const Struct& s0 = servers.values(0).struct_value();
  EXPECT_EQ(Field(s0, "index").number_value(), 0);
  EXPECT_EQ(Field(s0, "address").string_value(), server.address);
  EXPECT_EQ(Field(s0, "health").string_value(), "SERVING");
  EXPECT_TRUE(Field(s0, "stats").bool_value());
  EXPECT_NEAR(Field(s0, "ring_share").number_value(), 1.0, 1e-9);  // the only server
  EXPECT_GT(Field(s0, "rows").number_value(), 0);
  EXPECT_GT(Field(s0, "rss_bytes").number_value(), 0);
  EXPECT_GT(Field(s0, "pushes").number_value(), 0);
  EXPECT_GE(Field(s0, "tables").list_value().values_size(), 2);  // user, item, ...

  const Struct& w0 = Field(report, "workers").list_value().values(0).struct_value();
  EXPECT_EQ(Field(w0, "id").number_value(), 0);
  EXPECT_TRUE(Field(w0, "alive").bool_value());
  EXPECT_LT(Field(w0, "seconds_since_seen").number_value(), 30);
  EXPECT_GT(Field(w0, "examples_completed").number_value(), 0);

  const auto& epochs = Field(report, "epochs").list_value();
  ASSERT_GE(epochs.values_size(), 1);
  const Struct& e1 = epochs.values(0).struct_value();
  EXPECT_EQ(Field(e1, "epoch").number_value(), 1);
  EXPECT_GT(Field(e1, "examples").number_value(), 0);

  // The text form names the same parts.
  auto text = RunPsrec({"status", "--coordinator=" + coordinator.address}, 30);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(absl::StrContains(text.out, "server 0  " + server.address + "  SERVING")) << text.out;
  EXPECT_TRUE(absl::StrContains(text.out, "worker 0  alive")) << text.out;
}

// GET /metrics: the body, after checking the status line and content type.
std::string Scrape(int port) {
  const std::string response = testing_util::GetMetricsResponse(port);
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.0 200") ||
              absl::StartsWith(response, "HTTP/1.1 200"))
      << response.substr(0, 200);
  EXPECT_TRUE(absl::StrContains(response, "text/plain; version=0.0.4")) << response.substr(0, 300);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// Parses the text exposition format: every sample line is
// `name{labels} value`, and its family has a TYPE line before it.
// Returns series ("name{labels}") -> value.
std::map<std::string, double> ParseExposition(const std::string& text) {
  static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  std::set<std::string> typed;
  std::map<std::string, double> series;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (absl::StartsWith(line, "# HELP ")) continue;
    if (std::regex_match(line, m, kType)) {
      typed.insert(m[1]);
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, m, kSample)) << "not a sample line: " << line;
    if (m.empty()) continue;
    std::string family = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (absl::EndsWith(family, suffix) &&
          typed.count(family.substr(0, family.size() - strlen(suffix)))) {
        family = family.substr(0, family.size() - strlen(suffix));
      }
    }
    EXPECT_TRUE(typed.count(family)) << "no TYPE before " << line;
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(m[3].str(), &value) || m[3] == "+Inf" || m[3] == "NaN") << line;
    series[m[1].str() + m[2].str()] = value;
  }
  return series;
}

TEST_F(LiveClusterTest, EveryProcessServesPrometheusMetrics) {
  const int coordinator_port = static_cast<int>(
      Field(Field(report, "coordinator").struct_value(), "metrics_port").number_value());
  const int server_port = static_cast<int>(
      Field(Field(report, "servers").list_value().values(0).struct_value(), "metrics_port")
          .number_value());
  const int worker_port = static_cast<int>(
      Field(Field(report, "workers").list_value().values(0).struct_value(), "metrics_port")
          .number_value());
  ASSERT_GT(coordinator_port, 0);
  ASSERT_GT(server_port, 0);
  ASSERT_GT(worker_port, 0);

  auto c = ParseExposition(Scrape(coordinator_port));
  EXPECT_GT((c["psrec_rpc_requests_total{service=\"Coordinator\",method=\"AcquireLease\",result="
               "\"ok\"}"]),
            0);
  EXPECT_GT((c["psrec_coordinator_lease_changes_total{change=\"granted\"}"]), 0);
  EXPECT_GT((c["psrec_coordinator_lease_changes_total{change=\"completed\"}"]), 0);
  EXPECT_TRUE(c.count("psrec_coordinator_lease_changes_total{change=\"expired\"}"));
  EXPECT_GT((c["psrec_rpc_request_seconds_count{service=\"Coordinator\",method=\"AcquireLease\"}"]),
            0);
  EXPECT_EQ((c["psrec_coordinator_workers"]), 1);

  auto s = ParseExposition(Scrape(server_port));
  // A training batch's tables travel in one PullBatch / PushBatch
  // per server; the rows they carry are counted under those methods.
  const std::string pull = "service=\"ParameterServer\",method=\"PullBatch\"";
  EXPECT_GT((s["psrec_rpc_requests_total{" + pull + ",result=\"ok\"}"]), 0);
  EXPECT_GT((s["psrec_rpc_rows_total{" + pull + "}"]), 0);
  EXPECT_GT((s["psrec_rpc_rows_total{service=\"ParameterServer\",method=\"PushBatch\"}"]),
            0);
  EXPECT_EQ((s["psrec_rpc_request_seconds_bucket{" + pull + ",le=\"+Inf\"}"]),
            (s["psrec_rpc_request_seconds_count{" + pull + "}"]));
  EXPECT_GT((s["psrec_table_rows{table=\"user\"}"]), 0);
  EXPECT_GT((s["psrec_table_bytes{table=\"item\"}"]), 0);
  EXPECT_GT((s["psrec_optimizer_steps_total{table=\"user\"}"]), 0);
  EXPECT_EQ((s["psrec_server_rejected_requests_total{reason=\"invalid\"}"]), 0);
  EXPECT_GT((s["psrec_process_resident_bytes"]), 0);

  auto w = ParseExposition(Scrape(worker_port));
  EXPECT_GT((w["psrec_worker_examples_total"]), 0);
  EXPECT_GT((w["psrec_worker_shards_total"]), 0);
  EXPECT_GT((w["psrec_worker_shard_seconds_count"]), 0);
}

TEST(StatusTest, UnreachableCoordinatorIsAnError) {
  auto r = RunPsrec({"status", "--coordinator=127.0.0.1:1", "--probe_timeout_seconds=1"}, 60);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "127.0.0.1:1")) << r.err;
}

}  // namespace
}  // namespace psrec
