// --max_concurrent_requests: with that many requests running on a server,
// the next one is answered RESOURCE_EXHAUSTED (gRPC's ResourceQuota) and
// counted; once they finish, requests are served again. A service whose
// Stats blocks until released holds the requests.
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/prometheus.h"
#include "common/rpc_metrics.h"
#include "common/rpc_util.h"
#include "gtest/gtest.h"
#include "proto/psrec.grpc.pb.h"

namespace psrec {
namespace {

class BlockingStatsService final : public rpc::ParameterServer::Service {
 public:
  grpc::Status Stats(grpc::ServerContext*, const rpc::StatsRequest*, rpc::StatsResponse*) override {
    {
      absl::MutexLock lock(&mu_);
      ++entered_;
    }
    release_.WaitForNotification();
    return grpc::Status::OK;
  }
  // Whether `n` requests are inside Stats within 10 s.
  bool WaitForEntered(int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return entered_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(10));
  }
  void Release() { release_.Notify(); }

 private:
  absl::Mutex mu_;
  int entered_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Notification release_;
};

grpc::StatusCode CallStats(rpc::ParameterServer::Stub* stub) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Seconds(20));
  rpc::StatsResponse resp;
  return stub->Stats(&ctx, rpc::StatsRequest(), &resp).error_code();
}

class ConcurrencyLimitTest : public ::testing::TestWithParam<int> {};

TEST_P(ConcurrencyLimitTest, OneMoreThanTheLimitIsRefusedAndCounted) {
  const int limit = GetParam();
  BlockingStatsService service;
  PrometheusRegistry registry;
  RpcMetrics metrics(&registry, {"psrec.rpc.ParameterServer"});
  RpcOptions rpc;
  rpc.limits.max_concurrent_requests = limit;
  int port = 0;
  auto server = StartGrpcServerWithMetrics("127.0.0.1", 0, {&service}, &port, &metrics, rpc);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub =
      rpc::ParameterServer::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", port), RpcOptions()));

  std::vector<grpc::StatusCode> held(limit, grpc::StatusCode::UNKNOWN);
  std::vector<std::thread> holders;
  bool all_entered = true;
  for (int i = 0; i < limit && all_entered; ++i) {
    holders.emplace_back([&, i] { held[i] = CallStats(stub.get()); });
    all_entered = service.WaitForEntered(i + 1);
    EXPECT_TRUE(all_entered) << "request " << i + 1 << " of " << limit << " did not run";
  }
  if (all_entered) {
    EXPECT_EQ(CallStats(stub.get()), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(metrics.resource_exhausted()->value(), 1u);
  }
  service.Release();
  for (std::thread& t : holders) t.join();
  for (int i = 0; i < static_cast<int>(holders.size()); ++i) {
    EXPECT_EQ(held[i], grpc::StatusCode::OK) << "held request " << i;
  }
  // The held calls' server threads go back to the quota just after their
  // answers reach this client, so the first call after them may still find
  // the limit taken (one failure in a full run, not reproduced in 40 runs
  // under load). A freed limit lets a call through within a few tries.
  grpc::StatusCode after = CallStats(stub.get());
  for (int i = 0; i < 100 && after == grpc::StatusCode::RESOURCE_EXHAUSTED; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    after = CallStats(stub.get());
  }
  EXPECT_EQ(after, grpc::StatusCode::OK);
  (*server)->Shutdown();
}

INSTANTIATE_TEST_SUITE_P(Limits, ConcurrencyLimitTest, ::testing::Values(1, 2, 4));

}  // namespace
}  // namespace psrec
