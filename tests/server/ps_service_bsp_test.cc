// bsp through a real ParameterServer service on loopback: a push tagged with
// a clock is invisible to pulls of its own clock and visible from the next
// clock on (and to read-only pulls, which evaluation uses between epochs).
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/consistency.h"
#include "common/rpc_util.h"
#include "common/shard_map.h"
#include "gtest/gtest.h"
#include "server/ps_service.h"
#include "server/shard_state.h"
#include "tests/server/service_test_config.h"
#include "worker/grpc_ps_client.h"

namespace psrec {
namespace {

constexpr uint32_t kDim = 4;

rpc::RunConfig SgdConfig() { return testing_util::TwoTableConfig("sgd", 0.5f, kDim, 5); }

class PsServiceBspTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto shard = ShardState::Create(SgdConfig(), 0);
    ASSERT_TRUE(shard.ok()) << shard.status();
    service_.SetShard(std::move(*shard));
    int port = 0;
    auto server = StartGrpcServer("127.0.0.1", 0, {&service_}, &port, RpcOptions());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto client =
        GrpcPsClient::Create(testing_util::OneServerMap(absl::StrCat("127.0.0.1:", port)),
                             TablesFromConfig(SgdConfig()), RpcOptions(), absl::Seconds(10));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::vector<float> Row(bool read_only = false) {
    std::vector<float> row(kDim);
    std::vector<uint8_t> found(1);
    PullOp op{kUserTable, keys_, row.data(), found.data()};
    EXPECT_TRUE(client_->Pull({&op, 1}, read_only).ok());
    return row;
  }
  void Push(const std::vector<float>& grad) {
    PushOp op{kUserTable, keys_, grad.data()};
    ASSERT_TRUE(client_->Push({&op, 1}).ok());
  }

  ParameterServerService service_{nullptr};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<GrpcPsClient> client_;
  const std::vector<uint64_t> keys_ = {9};
};

TEST_F(PsServiceBspTest, APushOfClockCIsSeenFromClockCPlusOne) {
  client_->set_clock(ClockTag(0, 0), /*worker_id=*/1);
  const std::vector<float> before = Row();
  Push({1, 1, 1, 1});
  EXPECT_EQ(Row(), before) << "the same clock does not see its own pushes";
  client_->set_clock(ClockTag(0, 1), 1);
  const std::vector<float> after = Row();
  for (uint32_t d = 0; d < kDim; ++d) EXPECT_FLOAT_EQ(after[d], before[d] - 0.5f) << d;
}

TEST_F(PsServiceBspTest, ReadOnlyPullsSeeEverythingPushed) {
  client_->set_clock(ClockTag(0, 0), 0);
  const std::vector<float> before = Row();
  client_->set_clock(ClockTag(2, 7), 0);
  Push({2, 0, 0, 0});
  const std::vector<float> seen = Row(/*read_only=*/true);
  EXPECT_FLOAT_EQ(seen[0], before[0] - 1.0f);
  EXPECT_FLOAT_EQ(seen[1], before[1]);
}

TEST_F(PsServiceBspTest, UntaggedPushesApplyAtOnce) {
  const std::vector<float> before = Row();
  Push({1, 0, 0, 0});
  EXPECT_FLOAT_EQ(Row()[0], before[0] - 0.5f);
}

}  // namespace
}  // namespace psrec
