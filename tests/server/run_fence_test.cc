// Run-identity fencing over real gRPC (common/run_fence.h): two servers of
// two runs on loopback. A client of run B that reaches run A's server (its
// dead server's address re-used by run A) is refused, changes nothing there,
// and re-routes once a fresh map names its own server.
#include "common/run_fence.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/prometheus.h"
#include "common/rpc_util.h"
#include "common/shard_map.h"
#include "gtest/gtest.h"
#include "server/checkpoint_service.h"
#include "server/ps_service.h"
#include "server/shard_state.h"
#include "tests/server/service_test_config.h"
#include "worker/grpc_ps_client.h"

namespace psrec {
namespace {

constexpr uint32_t kDim = 4;
constexpr uint64_t kRunA = 0xaaaa0001;
constexpr uint64_t kRunB = 0xbbbb0002;

rpc::RunConfig SgdConfig() { return testing_util::TwoTableConfig("sgd", 0.5f, kDim, 5); }

// One parameter server of one run, on a loopback port.
struct RunServer {
  explicit RunServer(uint64_t run) {
    auto shard = ShardState::Create(SgdConfig(), 0);
    EXPECT_TRUE(shard.ok()) << shard.status();
    service.SetShard(std::move(*shard));
    service.set_run_id(run);
    int port = 0;
    auto started = StartGrpcServer("127.0.0.1", 0, {&service}, &port, RpcOptions());
    EXPECT_TRUE(started.ok()) << started.status();
    server = std::move(*started);
    address = absl::StrCat("127.0.0.1:", port);
  }
  ~RunServer() { server->Shutdown(); }
  ParameterServerService service{nullptr};
  std::unique_ptr<grpc::Server> server;
  std::string address;
};

rpc::ShardMap MapOf(const std::string& address, uint64_t run, uint64_t version) {
  rpc::ShardMap map = testing_util::OneServerMap(address);
  map.set_version(version);
  map.set_run_id(run);
  return map;
}

std::unique_ptr<GrpcPsClient> Client(const rpc::ShardMap& map, absl::Duration budget) {
  auto client = GrpcPsClient::Create(map, TablesFromConfig(SgdConfig()), RpcOptions(), budget);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

std::vector<float> Row(GrpcPsClient& ps, uint64_t key) {
  std::vector<float> row(kDim);
  std::vector<uint64_t> keys = {key};
  PullOp op{kUserTable, keys, row.data()};
  EXPECT_TRUE(ps.Pull({&op, 1}, /*read_only=*/false).ok());
  return row;
}

absl::Status PushOne(GrpcPsClient& ps, uint64_t key) {
  const std::vector<float> grad = {1.0f, -2.0f, 0.5f, 3.0f};
  std::vector<uint64_t> keys = {key};
  PushOp op{kUserTable, keys, grad.data()};
  return ps.Push({&op, 1});
}

TEST(RunFence, AServerRefusesAnotherRunsPullsPushesAndSaves) {
  RunServer a(kRunA);
  auto own = Client(MapOf(a.address, kRunA, 1), absl::Seconds(10));
  auto foreign = Client(MapOf(a.address, kRunB, 1), absl::Milliseconds(300));
  ASSERT_TRUE(own && foreign);
  const std::vector<float> before = Row(*own, 7);

  absl::Status push = PushOne(*foreign, 7);
  EXPECT_EQ(push.code(), absl::StatusCode::kFailedPrecondition) << push;
  EXPECT_NE(push.message().find("belongs to psrec run 00000000aaaa0001"), std::string::npos)
      << push;
  EXPECT_NE(push.message().find("request of psrec run 00000000bbbb0002"), std::string::npos)
      << push;
  EXPECT_NE(push.message().find(a.address), std::string::npos) << push;
  EXPECT_EQ(Row(*own, 7), before) << "another run's push changed the row";

  std::vector<float> row(kDim);
  std::vector<uint64_t> keys = {8};
  PullOp pull{kUserTable, keys, row.data()};
  EXPECT_EQ(foreign->Pull({&pull, 1}, false).code(), absl::StatusCode::kFailedPrecondition);
  const std::string dir = ::testing::TempDir() + "/run_fence_save";
  EXPECT_EQ(foreign->SaveAll(dir).code(), absl::StatusCode::kFailedPrecondition);

  auto stats = own->StatsAll();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ((*stats)[0].pushes(), 0u);
  EXPECT_GE((*stats)[0].rejected(), 3u);

  // The run's own client, and one that names no run (a tool), are served.
  EXPECT_TRUE(PushOne(*own, 7).ok());
  EXPECT_NE(Row(*own, 7), before);
  auto tool = Client(MapOf(a.address, 0, 1), absl::Seconds(10));
  ASSERT_TRUE(tool);
  EXPECT_TRUE(PushOne(*tool, 7).ok());
}

TEST(RunFence, ARefusedClientFetchesTheMapAndReroutes) {
  RunServer a(kRunA);
  RunServer b(kRunB);
  // Run B's map still names the address run A now serves on; the
  // coordinator's newer map names run B's live server.
  auto client = Client(MapOf(a.address, kRunB, 1), absl::Seconds(10));
  ASSERT_TRUE(client);
  int fetched = 0;
  client->set_map_source([&]() -> absl::StatusOr<rpc::ShardMap> {
    ++fetched;
    return MapOf(b.address, kRunB, 2);
  });
  auto on_a = Client(MapOf(a.address, kRunA, 1), absl::Seconds(10));
  auto on_b = Client(MapOf(b.address, kRunB, 1), absl::Seconds(10));
  ASSERT_TRUE(on_a && on_b);
  const std::vector<float> a_before = Row(*on_a, 7);
  const std::vector<float> b_before = Row(*on_b, 7);

  ASSERT_TRUE(PushOne(*client, 7).ok());
  EXPECT_GE(fetched, 1);
  EXPECT_EQ(client->map_version(), 2u);
  EXPECT_EQ(Row(*on_a, 7), a_before);
  EXPECT_NE(Row(*on_b, 7), b_before);
}

// The coordinator's address answered by another run's coordinator: its map
// (newer, of run A) is not installed, so run B's pushes never reach run A's
// servers through it.
TEST(RunFence, AMapOfAnotherRunIsNotInstalled) {
  RunServer a(kRunA);
  auto client = Client(MapOf(a.address, kRunB, 1), absl::Milliseconds(400));
  ASSERT_TRUE(client);
  client->set_map_source(
      [&]() -> absl::StatusOr<rpc::ShardMap> { return MapOf(a.address, kRunA, 2); });
  auto own = Client(MapOf(a.address, kRunA, 1), absl::Seconds(10));
  ASSERT_TRUE(own);
  const std::vector<float> before = Row(*own, 7);
  const absl::Status push = PushOne(*client, 7);
  EXPECT_EQ(push.code(), absl::StatusCode::kFailedPrecondition) << push;
  EXPECT_EQ(client->map_version(), 1u);
  EXPECT_EQ(Row(*own, 7), before);
}

// A checkpoint round of another run's coordinator writes nothing.
TEST(RunFence, ACheckpointRoundOfAnotherRunWritesNothing) {
  const std::string dir = ::testing::TempDir() + "/run_fence_checkpoints";
  std::filesystem::remove_all(dir);
  PrometheusRegistry registry;
  CheckpointService checkpoints("", &registry);
  auto shard = ShardState::Create(SgdConfig(), 0);
  ASSERT_TRUE(shard.ok()) << shard.status();
  checkpoints.SetShard(shard->get());
  checkpoints.set_run_id(kRunA);
  rpc::ShardCheckpointRequest req;
  req.set_round(1);
  req.set_dir(dir);
  req.set_keep(2);
  req.set_run_id(kRunB);
  rpc::ShardCheckpointResponse resp;
  grpc::ServerContext ctx;
  const grpc::Status refused = checkpoints.WriteCheckpoint(&ctx, &req, &resp);
  EXPECT_TRUE(IsOtherRunRefusal(refused)) << refused.error_message();
  EXPECT_FALSE(std::filesystem::exists(dir + "/shard-0")) << "another run's round was written";
  req.set_run_id(kRunA);
  EXPECT_TRUE(checkpoints.WriteCheckpoint(&ctx, &req, &resp).ok());
  EXPECT_TRUE(std::filesystem::exists(resp.path())) << resp.path();
}

TEST(RunFence, CheckRunIdChecksOnlyWhenBothSidesNameARun) {
  EXPECT_TRUE(CheckRunId(0, kRunA).ok());
  EXPECT_TRUE(CheckRunId(kRunA, 0).ok());
  EXPECT_TRUE(CheckRunId(kRunA, kRunA).ok());
  const grpc::Status refused = CheckRunId(kRunB, kRunA);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(IsOtherRunRefusal(refused));
  EXPECT_FALSE(IsOtherRunRefusal(
      grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "shard map version 3 (request)")));
}

}  // namespace
}  // namespace psrec
