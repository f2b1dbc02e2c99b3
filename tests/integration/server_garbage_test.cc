// A real `psrec server` process (with its coordinator) receiving malformed
// and oversized requests answers INVALID_ARGUMENT / RESOURCE_EXHAUSTED and
// keeps serving valid ones.
#include <cmath>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "cli/child_process.h"
#include "common/rpc_util.h"
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
    auto server = ChildProcess::Spawn(
        "server",
        {"server", absl::StrCat("--coordinator=127.0.0.1:", *coord_port), "--log_level=warn"},
        PSREC_BINARY);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::make_unique<ChildProcess>(std::move(*server));
    auto port = server_->WaitForPort(absl::Seconds(30));
    ASSERT_TRUE(port.ok()) << port.status();
    stub_ = rpc::ParameterServer::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", *port), RpcOptions()));
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

  std::unique_ptr<ChildProcess> coordinator_, server_;
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
  huge.mutable_keys()->assign((kDefaultMaxKeysPerRequest + 1) * sizeof(uint64_t), '\1');
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
}

}  // namespace
}  // namespace psrec
