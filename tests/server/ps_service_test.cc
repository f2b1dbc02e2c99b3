// A push's lr_scale reaches the optimizer: through a real gRPC server (the
// ParameterServer service on loopback, in this process) and through the
// in-process client, SGD moves a parameter by exactly lr * scale * grad.
#include "server/ps_service.h"

#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc_util.h"
#include "common/shard_map.h"
#include "gtest/gtest.h"
#include "server/shard_state.h"
#include "tests/server/service_test_config.h"
#include "worker/grpc_ps_client.h"
#include "worker/local_ps_client.h"

namespace psrec {
namespace {

constexpr uint32_t kDim = 4;
constexpr float kLr = 0.5f;

rpc::RunConfig SgdConfig() { return testing_util::TwoTableConfig("sgd", kLr, kDim, 5); }

class PsServiceLrScaleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto shard = ShardState::Create(SgdConfig(), 0);
    ASSERT_TRUE(shard.ok()) << shard.status();
    service_.SetShard(std::move(*shard));
    int port = 0;
    auto server = StartGrpcServer("127.0.0.1", 0, {&service_}, &port, RpcOptions());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    address_ = absl::StrCat("127.0.0.1:", port);
    auto client =
        GrpcPsClient::Create(testing_util::OneServerMap(address_), TablesFromConfig(SgdConfig()),
                             RpcOptions(), absl::Seconds(10));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::vector<float> Row(PsClient& ps, uint64_t key) {
    std::vector<float> row(kDim);
    std::vector<uint64_t> keys = {key};
    PullOp op{kUserTable, keys, row.data()};
    EXPECT_TRUE(ps.Pull({&op, 1}, /*read_only=*/false).ok());
    return row;
  }
  absl::Status PushOne(PsClient& ps, uint64_t key, const std::vector<float>& grad, float scale) {
    std::vector<uint64_t> keys = {key};
    PushOp op{kUserTable, keys, grad.data()};
    op.lr_scale = scale;
    return ps.Push({&op, 1});
  }
  // SGD without L2, in the same float arithmetic as the server.
  static std::vector<float> Expected(const std::vector<float>& w, const std::vector<float>& g,
                                     float scale) {
    std::vector<float> out(w.size());
    const float lr = kLr * scale;
    for (size_t i = 0; i < w.size(); ++i) out[i] = w[i] - lr * g[i];
    return out;
  }

  ParameterServerService service_{nullptr};
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<GrpcPsClient> client_;
};

TEST_F(PsServiceLrScaleTest, GrpcPushAppliesLrTimesScale) {
  const std::vector<float> grad = {2.0f, -1.0f, 0.5f, 4.0f};
  const std::vector<float> before = Row(*client_, 7);
  ASSERT_TRUE(PushOne(*client_, 7, grad, 0.25f).ok());
  const std::vector<float> after = Row(*client_, 7);
  EXPECT_EQ(after, Expected(before, grad, 0.25f));
  // The base lr is not what was applied (the test would notice a dropped scale).
  EXPECT_NE(after, Expected(before, grad, 1.0f));

  // A push without a scale trains at the base lr.
  ASSERT_TRUE(PushOne(*client_, 7, grad, 1.0f).ok());
  EXPECT_EQ(Row(*client_, 7), Expected(after, grad, 1.0f));
}

TEST_F(PsServiceLrScaleTest, UnsetScaleOnTheWireMeansOneAndBadScalesAreRefused) {
  auto stub = rpc::ParameterServer::NewStub(MakeChannel(address_, RpcOptions()));
  const std::vector<float> grad = {1.0f, 1.0f, 1.0f, 1.0f};
  auto push = [&](float scale, bool set) {
    rpc::PushRequest req;
    req.set_protocol_version(kProtocolVersion);
    req.set_table(kUserTable);
    std::vector<uint64_t> keys = {9};
    PackArray<uint64_t>(keys, req.mutable_keys());
    PackArray<float>(grad, req.mutable_grads());
    if (set) req.set_lr_scale(scale);
    rpc::PushResponse resp;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    return stub->Push(&ctx, req, &resp);
  };
  const std::vector<float> before = Row(*client_, 9);
  ASSERT_TRUE(push(0, /*set=*/false).ok());  // an old client: no lr_scale at all
  const std::vector<float> after = Row(*client_, 9);
  EXPECT_EQ(after, Expected(before, grad, 1.0f));

  EXPECT_EQ(push(-0.5f, true).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(push(std::numeric_limits<float>::infinity(), true).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Row(*client_, 9), after) << "a refused push changed the row";

  // The client refuses a scale it cannot send (0 would read as 1.0).
  EXPECT_TRUE(absl::IsInvalidArgument(PushOne(*client_, 9, grad, 0.0f)));
  EXPECT_EQ(Row(*client_, 9), after);
}

TEST_F(PsServiceLrScaleTest, AssignSetsRowsAndIsRefusedWithAClockOrDeltas) {
  const std::vector<float> values = {1.5f, -2.0f, 0.25f, 3.0f};
  std::vector<uint64_t> keys = {11};
  PushOp op{kUserTable, keys, values.data()};
  op.assign = true;
  op.lr_scale = 4.0f;  // ignored: the values are the row, not a gradient
  ASSERT_TRUE(client_->Push({&op, 1}).ok());
  EXPECT_EQ(Row(*client_, 11), values);

  auto stub = rpc::ParameterServer::NewStub(MakeChannel(address_, RpcOptions()));
  auto push = [&](bool with_clock, bool with_deltas) {
    rpc::PushRequest req;
    req.set_protocol_version(kProtocolVersion);
    req.set_table(kUserTable);
    PackArray<uint64_t>(keys, req.mutable_keys());
    const std::vector<float> other = {9, 9, 9, 9};
    PackArray<float>(other, req.mutable_grads());
    req.set_assign(true);
    if (with_clock) req.set_clock(1);
    if (with_deltas) req.set_add_deltas(true);
    rpc::PushResponse resp;
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    return stub->Push(&ctx, req, &resp);
  };
  EXPECT_EQ(push(true, false).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(push(false, true).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Row(*client_, 11), values) << "a refused assign changed the row";
  ASSERT_TRUE(push(false, false).ok());
  EXPECT_EQ(Row(*client_, 11), std::vector<float>({9, 9, 9, 9}));
}

// A batch's tables travel in one call per server (PullBatch /
// PushBatch): the rows pulled and the updates applied are those of one
// call per table.
TEST_F(PsServiceLrScaleTest, OneCallForSeveralTablesMatchesOneCallPerTable) {
  const std::vector<uint64_t> users = {1, 2, 3}, items = {2, 40};
  std::vector<float> u_alone(users.size() * kDim), i_alone(items.size() * kDim);
  PullOp u_op{kUserTable, users, u_alone.data()}, i_op{kItemTable, items, i_alone.data()};
  ASSERT_TRUE(client_->Pull({&u_op, 1}, false).ok());
  ASSERT_TRUE(client_->Pull({&i_op, 1}, false).ok());
  rpc::StatsResponse stats;
  service_.Stats(nullptr, nullptr, &stats);
  const uint64_t pulls_before = stats.pulls();

  std::vector<float> u_both(u_alone.size()), i_both(i_alone.size());
  std::vector<PullOp> both = {{kUserTable, users, u_both.data()},
                              {kItemTable, items, i_both.data()}};
  ASSERT_TRUE(client_->Pull(both, false).ok());
  EXPECT_EQ(u_both, u_alone);
  EXPECT_EQ(i_both, i_alone);
  service_.Stats(nullptr, nullptr, &stats);
  EXPECT_EQ(stats.pulls(), pulls_before + 2) << "each table's request is served";

  std::vector<float> gu(u_alone.size()), gi(i_alone.size());
  for (size_t k = 0; k < gu.size(); ++k) gu[k] = 0.5f * static_cast<float>(k) - 1.0f;
  for (size_t k = 0; k < gi.size(); ++k) gi[k] = 2.0f - 0.25f * static_cast<float>(k);
  std::vector<PushOp> push = {{kUserTable, users, gu.data()}, {kItemTable, items, gi.data()}};
  ASSERT_TRUE(client_->Push(push).ok());
  ASSERT_TRUE(client_->Pull(both, false).ok());
  EXPECT_EQ(u_both, Expected(u_alone, gu, 1.0f));
  EXPECT_EQ(i_both, Expected(i_alone, gi, 1.0f));
}

// A batch stops at its first bad request with that request's status; the
// pushes before it stay applied, and resending the batch (same seqs) applies
// each push once.
TEST_F(PsServiceLrScaleTest, PushBatchStopsAtTheFirstFailureAndRetriesApplyOnce) {
  auto stub = rpc::ParameterServer::NewStub(MakeChannel(address_, RpcOptions()));
  const std::vector<float> grad = {1.0f, 2.0f, 3.0f, 4.0f};
  auto request = [&](uint64_t key, uint64_t seq, float scale) {
    rpc::PushRequest r;
    r.set_protocol_version(kProtocolVersion);
    r.set_table(kUserTable);
    r.set_worker_id(3);
    r.set_seq(seq);
    r.set_lr_scale(scale);
    std::vector<uint64_t> keys = {key};
    PackArray<uint64_t>(keys, r.mutable_keys());
    PackArray<float>(grad, r.mutable_grads());
    return r;
  };
  auto send = [&](const rpc::PushBatchRequest& req, rpc::PushBatchResponse* resp) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    return stub->PushBatch(&ctx, req, resp);
  };
  const std::vector<float> a0 = Row(*client_, 11), b0 = Row(*client_, 12);
  rpc::PushBatchRequest req;
  *req.add_requests() = request(11, 1, 1.0f);
  *req.add_requests() = request(12, 2, -1.0f);  // refused: a negative scale
  rpc::PushBatchResponse resp;
  EXPECT_EQ(send(req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::vector<float> a1 = Row(*client_, 11);
  EXPECT_EQ(a1, Expected(a0, grad, 1.0f)) << "the push before the bad one is applied";
  EXPECT_EQ(Row(*client_, 12), b0);

  *req.mutable_requests(1) = request(12, 2, 1.0f);
  resp.Clear();
  ASSERT_TRUE(send(req, &resp).ok());
  ASSERT_EQ(resp.responses_size(), 2);
  EXPECT_TRUE(resp.responses(0).duplicate());
  EXPECT_FALSE(resp.responses(1).duplicate());
  EXPECT_EQ(Row(*client_, 11), a1) << "a resent push was applied twice";
  EXPECT_EQ(Row(*client_, 12), Expected(b0, grad, 1.0f));
}

TEST(LocalPsClientLrScaleTest, PushAppliesLrTimesScale) {
  auto shard = ShardState::Create(SgdConfig(), 0);
  ASSERT_TRUE(shard.ok()) << shard.status();
  LocalPsClient ps(shard->get());
  std::vector<uint64_t> keys = {3};
  std::vector<float> before(kDim), after(kDim);
  PullOp pull{kUserTable, keys, before.data()};
  ASSERT_TRUE(ps.Pull({&pull, 1}, false).ok());
  const std::vector<float> grad = {1.0f, 2.0f, 3.0f, 4.0f};
  PushOp op{kUserTable, keys, grad.data()};
  op.lr_scale = 0.125f;
  ASSERT_TRUE(ps.Push({&op, 1}).ok());
  pull.values = after.data();
  ASSERT_TRUE(ps.Pull({&pull, 1}, false).ok());
  for (uint32_t i = 0; i < kDim; ++i) EXPECT_EQ(after[i], before[i] - (kLr * 0.125f) * grad[i]);
  op.lr_scale = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(ps.Push({&op, 1})));
}

// --max_keys_per_request: a request over it is refused, counted apart, and
// creates no row; the GrpcPsClient splits its requests below it.
TEST(PsServiceKeyLimitTest, RefusesMoreKeysThanTheLimitAndClientsSplitBelowIt) {
  ParameterServerService service(nullptr, /*max_keys_per_request=*/4);
  auto shard = ShardState::Create(SgdConfig(), 0);
  ASSERT_TRUE(shard.ok()) << shard.status();
  service.SetShard(std::move(*shard));
  rpc::PullRequest req;
  req.set_protocol_version(kProtocolVersion);
  req.set_table(kUserTable);
  std::vector<uint64_t> keys = {1, 2, 3, 4, 5};
  PackArray<uint64_t>(keys, req.mutable_keys());
  rpc::PullResponse resp;
  EXPECT_EQ(service.Pull(nullptr, &req, &resp).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  rpc::StatsResponse stats;
  service.Stats(nullptr, nullptr, &stats);
  EXPECT_EQ(stats.rejected(), 1u);
  EXPECT_EQ(stats.over_limit_rejected(), 1u);
  EXPECT_EQ(stats.tables(0).rows(), 0u);

  keys.pop_back();
  PackArray<uint64_t>(keys, req.mutable_keys());
  EXPECT_TRUE(service.Pull(nullptr, &req, &resp).ok());

  // Through gRPC, a client told the limit sends 10 keys as chunks of at most 4.
  int port = 0;
  RpcOptions rpc;
  rpc.limits.max_keys_per_request = 4;
  auto server = StartGrpcServer("127.0.0.1", 0, {&service}, &port, rpc);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = GrpcPsClient::Create(testing_util::OneServerMap(absl::StrCat("127.0.0.1:", port)),
                                     TablesFromConfig(SgdConfig()), rpc, absl::Seconds(10));
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<uint64_t> many(10);
  for (uint64_t i = 0; i < many.size(); ++i) many[i] = 100 + i;
  std::vector<float> values(many.size() * kDim);
  PullOp op{kUserTable, many, values.data()};
  EXPECT_TRUE((*client)->Pull({&op, 1}, false).ok());
  service.Stats(nullptr, nullptr, &stats);
  EXPECT_EQ(stats.over_limit_rejected(), 1u);
  EXPECT_EQ(stats.pulls(), 1u + 3u);  // the one above, then 4 + 4 + 2
  (*server)->Shutdown();
}

}  // namespace
}  // namespace psrec
