// grpc.health.v1 on every role, probed with `psrec health` as scripts and
// orchestrators do: NOT_SERVING until a role can work, SERVING after.
#include <fstream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/child_process.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using testing_util::RunPsrec;

// Nothing listens on port 1 of loopback: a role pointed there never joins.
constexpr char kNoCoordinator[] = "--coordinator=127.0.0.1:1";

struct Started {
  std::unique_ptr<ChildProcess> process;
  std::string address;  // 127.0.0.1:PORT it reported
};

Started Start(const std::string& name, const std::vector<std::string>& args) {
  auto child = ChildProcess::Spawn(name, args, PSREC_BINARY);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return {};
  Started s{std::make_unique<ChildProcess>(std::move(*child)), ""};
  auto port = s.process->WaitForPort(absl::Seconds(30));
  EXPECT_TRUE(port.ok()) << port.status();
  if (port.ok()) s.address = absl::StrCat("127.0.0.1:", *port);
  return s;
}

testing_util::RunResult Probe(const std::string& address, int wait_seconds = 0) {
  return RunPsrec({"health", "--target=" + address, absl::StrCat("--wait_seconds=", wait_seconds)},
                  60);
}

class HealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = testing_util::MakeTempDir("health");
    train_ = dir + "/train.rating";
    std::ofstream f(train_);
    for (int u = 1; u <= 20; ++u) f << u << "\t" << (u % 7) + 1 << "\t1\t0\n";
  }
  // A coordinator for one server whose run outlasts the test.
  Started StartCoordinator() {
    return Start("coordinator", {"coordinator", "--train=" + train_, "--servers=1", "--dim=4",
                                 "--epochs=100000", "--log_level=warn"});
  }
  std::string train_;
};

TEST_F(HealthTest, EveryRoleServesOnceReady) {
  Started coordinator = StartCoordinator();
  ASSERT_FALSE(coordinator.address.empty());
  auto r = Probe(coordinator.address);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "SERVING\n");

  Started server =
      Start("server", {"server", "--coordinator=" + coordinator.address, "--log_level=warn"});
  ASSERT_FALSE(server.address.empty());
  r = Probe(server.address, 30);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "SERVING\n");

  Started worker =
      Start("worker", {"worker", "--coordinator=" + coordinator.address, "--log_level=warn"});
  ASSERT_FALSE(worker.address.empty());
  r = Probe(worker.address, 30);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
}

TEST_F(HealthTest, ServerAndWorkerAreNotServingBeforeTheyJoin) {
  Started server =
      Start("server", {"server", kNoCoordinator, "--timeout_seconds=30", "--log_level=off"});
  ASSERT_FALSE(server.address.empty());
  auto r = Probe(server.address);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out, "NOT_SERVING\n");

  Started worker =
      Start("worker", {"worker", kNoCoordinator, "--timeout_seconds=30", "--log_level=off"});
  ASSERT_FALSE(worker.address.empty());
  r = Probe(worker.address);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out, "NOT_SERVING\n");

  // SIGTERM stops them at once (no waiting out the coordinator's retry budget),
  // which is what `cluster.sh down` and a pod's termination expect.
  for (Started* role : {&server, &worker}) {
    const absl::Time start = absl::Now();
    role->process->Stop(absl::Seconds(10));
    EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << role->process->name();
    EXPECT_TRUE(role->process->ExitedCleanly()) << role->process->name();
  }
}

TEST(HealthProbeTest, UnreachableTargetIsDown) {
  auto r = RunPsrec({"health", "--target=127.0.0.1:1", "--probe_timeout_seconds=1"}, 30);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "DOWN\n");
  EXPECT_TRUE(absl::StrContains(r.err, "127.0.0.1:1")) << r.err;
}

TEST(HealthProbeTest, NeedsTarget) {
  auto r = RunPsrec({"health"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--target")) << r.err;
}

}  // namespace
}  // namespace psrec
