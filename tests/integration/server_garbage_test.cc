// A real `psrec server` process (with its coordinator) receiving malformed,
// truncated, oversized, non-finite and wrong-dimension requests answers
// INVALID_ARGUMENT / RESOURCE_EXHAUSTED, counts them (Stats and /metrics),
// keeps serving valid ones, and its tables are unchanged.
#include <grpcpp/generic/generic_stub.h>

#include <cmath>
#include <fstream>
#include <future>
#include <limits>

#include "absl/strings/str_cat.h"
#include "cli/child_process.h"
#include "common/rpc_util.h"
#include "coordinator/coordinator_client.h"
#include "server/ps_service.h"
#include "gtest/gtest.h"
#include "proto/psrec.grpc.pb.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

class ServerGarbageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = testing_util::MakeTempDir("garbage");
    {
      std::ofstream f(dir + "/train.rating");
      for (int u = 1; u <= 20; ++u) f << u << "\t" << (u % 7) + 1 << "\t1\t0\n";
    }
    auto coord = ChildProcess::Spawn(
        "coordinator",
        {"coordinator", "--train=" + dir + "/train.rating", "--servers=1", "--dim=4",
         "--log_level=warn"},
        PSREC_BINARY);
    ASSERT_TRUE(coord.ok()) << coord.status();
    coordinator_ = std::make_unique<ChildProcess>(std::move(*coord));
    auto coord_port = coordinator_->WaitForPort(absl::Seconds(30));
    ASSERT_TRUE(coord_port.ok()) << coord_port.status();
    coordinator_address_ = absl::StrCat("127.0.0.1:", *coord_port);
    // Small limits, so that requests over them are small too.
    auto server = ChildProcess::Spawn(
        "server",
        {"server", absl::StrCat("--coordinator=127.0.0.1:", *coord_port), "--log_level=warn",
         absl::StrCat("--max_keys_per_request=", kMaxKeys),
         absl::StrCat("--max_message_bytes=", kMaxMessage), "--metrics_port=0"},
        PSREC_BINARY);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::make_unique<ChildProcess>(std::move(*server));
    auto port = server_->WaitForPort(absl::Seconds(30));
    ASSERT_TRUE(port.ok()) << port.status();
    channel_ = MakeChannel(absl::StrCat("127.0.0.1:", *port), RpcOptions());
    stub_ = rpc::ParameterServer::NewStub(channel_);
    // The server answers UNAVAILABLE until it has its configuration.
    for (int i = 0; i < 200; ++i) {
      if (Pull(ValidPull()).ok()) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  rpc::PullRequest ValidPull() {
    rpc::PullRequest req;
    req.set_protocol_version(kProtocolVersion);
    req.set_table(kUserTable);
    std::vector<uint64_t> keys = {1, 2, 3};
    PackArray<uint64_t>(keys, req.mutable_keys());
    return req;
  }
  grpc::Status Pull(const rpc::PullRequest& req, rpc::PullResponse* resp = nullptr) {
    rpc::PullResponse r;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    return stub_->Pull(&ctx, req, resp ? resp : &r);
  }
  grpc::Status Push(const rpc::PushRequest& req) {
    rpc::PushResponse r;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    return stub_->Push(&ctx, req, &r);
  }

  // Sends `bytes` as the request of `method` ("Pull", "Push"), unparsed.
  grpc::Status SendRaw(const std::string& method, const std::string& bytes) {
    grpc::GenericStub generic(channel_);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, "/psrec.rpc.ParameterServer/" + method, grpc::StubOptions(), &request,
                      &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
  }
  // The server's /metrics port, as it told the coordinator.
  int MetricsPort() {
    CoordinatorClient coordinator(coordinator_address_, RpcOptions(), absl::Seconds(10));
    auto status = coordinator.GetStatus();
    EXPECT_TRUE(status.ok()) << status.status();
    if (!status.ok() || status->server_status_size() != 1) return 0;
    return static_cast<int>(status->server_status(0).metrics_port());
  }
  rpc::StatsResponse Stats() {
    rpc::StatsResponse stats;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    EXPECT_TRUE(stub_->Stats(&ctx, rpc::StatsRequest(), &stats).ok());
    return stats;
  }

  static constexpr int kMaxKeys = 64;
  static constexpr int kMaxMessage = 64 << 10;
  std::unique_ptr<ChildProcess> coordinator_, server_;
  std::string coordinator_address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<rpc::ParameterServer::Stub> stub_;
};

TEST_F(ServerGarbageTest, RejectsGarbageAndKeepsServing) {
  rpc::PullResponse ok_resp;
  ASSERT_TRUE(Pull(ValidPull(), &ok_resp).ok());
  EXPECT_EQ(ok_resp.dim(), 4u);
  EXPECT_EQ(ok_resp.values().size(), 3 * 4 * sizeof(float));

  rpc::PullRequest ragged = ValidPull();
  ragged.mutable_keys()->append("xyz");  // not a whole number of uint64
  EXPECT_EQ(Pull(ragged).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  rpc::PullRequest table = ValidPull();
  table.set_table(99);
  EXPECT_EQ(Pull(table).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  rpc::PullRequest version = ValidPull();
  version.set_protocol_version(77);
  EXPECT_EQ(Pull(version).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  rpc::PullRequest huge = ValidPull();
  huge.mutable_keys()->assign((kMaxKeys + 1) * sizeof(uint64_t), '\1');
  EXPECT_EQ(Pull(huge).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  rpc::PushRequest short_grads;
  short_grads.set_protocol_version(kProtocolVersion);
  short_grads.set_table(kUserTable);
  std::vector<uint64_t> keys = {1, 2};
  PackArray<uint64_t>(keys, short_grads.mutable_keys());
  std::vector<float> grads(7, 0.5f);  // 2 keys x 4 floats would be 8
  PackArray<float>(grads, short_grads.mutable_grads());
  EXPECT_EQ(Push(short_grads).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  rpc::PushRequest nan = short_grads;
  grads.assign(8, 0.1f);
  grads[3] = std::numeric_limits<float>::quiet_NaN();
  PackArray<float>(grads, nan.mutable_grads());
  EXPECT_EQ(Push(nan).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Still serving, and the refused NaN push changed nothing.
  rpc::PullResponse after;
  ASSERT_TRUE(Pull(ValidPull(), &after).ok());
  EXPECT_EQ(after.values(), ok_resp.values());

  rpc::StatsResponse stats;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->Stats(&ctx, rpc::StatsRequest(), &stats).ok());
  EXPECT_GE(stats.rejected(), 6u);
  EXPECT_EQ(stats.nonfinite_rejected(), 1u);
  EXPECT_EQ(stats.over_limit_rejected(), 1u);
}

// Every kind of bad request at once; the tables hold the same bytes after.
TEST_F(ServerGarbageTest, BadRequestsChangeNothingAndAreCounted) {
  const std::vector<uint64_t> keys = {1, 2, 3, 5, 8};
  auto pull_all = [&](uint32_t table) {
    rpc::PullRequest req = ValidPull();
    req.set_table(table);
    PackArray<uint64_t>(keys, req.mutable_keys());
    rpc::PullResponse resp;
    EXPECT_TRUE(Pull(req, &resp).ok());
    return resp.values();
  };
  const std::string users_before = pull_all(kUserTable), items_before = pull_all(kItemTable);
  const rpc::StatsResponse before = Stats();

  // A push of `n` keys from 1 with these gradients (4 floats per key).
  auto push_of = [](std::vector<float> grads, size_t n) {
    rpc::PushRequest req;
    req.set_protocol_version(kProtocolVersion);
    req.set_table(kUserTable);
    std::vector<uint64_t> k(n);
    for (size_t i = 0; i < n; ++i) k[i] = i + 1;
    PackArray<uint64_t>(k, req.mutable_keys());
    PackArray<float>(grads, req.mutable_grads());
    return req;
  };
  int invalid = 0, exhausted = 0;
  auto expect = [&](grpc::Status s, grpc::StatusCode code, const char* what) {
    EXPECT_EQ(s.error_code(), code) << what << ": " << s.error_message();
    (code == grpc::StatusCode::INVALID_ARGUMENT ? invalid : exhausted)++;
  };
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), kInf, -kInf}) {
    std::vector<float> g(8, 0.25f);
    g[5] = bad;
    expect(Push(push_of(g, 2)), grpc::StatusCode::INVALID_ARGUMENT, "non-finite gradient");
  }
  expect(Push(push_of(std::vector<float>(6, 0.1f), 2)), grpc::StatusCode::INVALID_ARGUMENT,
         "dim 3 gradients for a dim-4 table");
  expect(Push(push_of(std::vector<float>(10, 0.1f), 2)), grpc::StatusCode::INVALID_ARGUMENT,
         "dim 5 gradients for a dim-4 table");
  rpc::PushRequest lr = push_of(std::vector<float>(8, 0.1f), 2);
  lr.set_lr_scale(-1);
  expect(Push(lr), grpc::StatusCode::INVALID_ARGUMENT, "negative lr_scale");
  lr.set_lr_scale(std::numeric_limits<float>::quiet_NaN());
  expect(Push(lr), grpc::StatusCode::INVALID_ARGUMENT, "NaN lr_scale");
  expect(Push(push_of(std::vector<float>((kMaxKeys + 1) * 4, 0.1f), kMaxKeys + 1)),
         grpc::StatusCode::RESOURCE_EXHAUSTED, "more keys than --max_keys_per_request");
  // Over --max_message_bytes: refused by gRPC before the service sees it.
  expect(Push(push_of(std::vector<float>(kMaxMessage, 0.1f), kMaxMessage / 4)),
         grpc::StatusCode::RESOURCE_EXHAUSTED, "message over --max_message_bytes");
  exhausted--;  // not counted by the server (it never reaches it)

  // Bytes that are not a request at all, and a valid push cut short.
  std::string wire;
  ASSERT_TRUE(push_of(std::vector<float>(8, 0.1f), 2).SerializeToString(&wire));
  expect(SendRaw("Push", wire.substr(0, wire.size() - 7)), grpc::StatusCode::INVALID_ARGUMENT,
         "truncated push");
  expect(SendRaw("Push", std::string("\xff\xff\xff\xff\x0f garbage", 13)),
         grpc::StatusCode::INVALID_ARGUMENT, "malformed push");
  expect(SendRaw("Pull", std::string(40, '\xff')), grpc::StatusCode::INVALID_ARGUMENT,
         "malformed pull");

  EXPECT_EQ(pull_all(kUserTable), users_before);
  EXPECT_EQ(pull_all(kItemTable), items_before);
  const rpc::StatsResponse after = Stats();
  ASSERT_EQ(after.tables_size(), before.tables_size());
  for (int t = 0; t < after.tables_size(); ++t) {
    EXPECT_EQ(after.tables(t).rows(), before.tables(t).rows()) << after.tables(t).name();
  }
  EXPECT_EQ(after.pushes(), before.pushes());
  EXPECT_EQ(after.nonfinite_rejected() - before.nonfinite_rejected(), 3u);
  EXPECT_EQ(after.over_limit_rejected() - before.over_limit_rejected(), 1u);
  // Requests that parsed are counted by the service (the unparseable ones only in /metrics).
  EXPECT_EQ(after.rejected() - before.rejected(), 8u);

  // The server's /metrics counts every refusal by its code.
  const std::string body = testing_util::ScrapeMetrics(MetricsPort());
  EXPECT_EQ(testing_util::MetricValue(body, "psrec_rpc_refused_total{reason=\"invalid_argument\"}"),
            invalid)
      << body;
  EXPECT_EQ(
      testing_util::MetricValue(body, "psrec_rpc_refused_total{reason=\"resource_exhausted\"}"),
      exhausted)
      << body;
}

}  // namespace
}  // namespace psrec
