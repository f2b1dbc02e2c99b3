// Label `fault`: a real training run (coordinator, three servers with
// --replicas=2, one worker, all `psrec` processes) loses a server to kill -9
// after its first epoch, completes, and its HR@10 matches the fault-free run
// (within 0.02; with one worker the pushes arrive in the same order, so the
// two runs give the same model).
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "tests/integration/replication_fault.h"

namespace psrec {
namespace {

using testing_util::RunPsrec;
using testing_util::StartedRole;
using testing_util::StartRole;

struct RunOutcome {
  bool completed = false;
  double hr = -1;
  uint64_t promotions = 0;
};

RunOutcome TrainWithReplicas(const std::string& data, const std::string& out, bool kill_one) {
  RunOutcome outcome;
  StartedRole coordinator = StartRole(
      "coordinator",
      {"coordinator", "--train=" + data + "/train.rating", "--servers=3", "--replicas=2",
       "--workers=1", "--epochs=3", "--server_timeout_seconds=1.5", "--metrics_port=-1",
       "--model_out=" + out, "--linger_seconds=1", "--log_level=warn"});
  if (coordinator.address.empty()) return outcome;
  std::vector<StartedRole> servers;
  for (int i = 0; i < 3; ++i) {
    servers.push_back(StartRole(absl::StrCat("server ", i),
                                {"server", "--coordinator=" + coordinator.address,
                                 "--metrics_port=-1", "--log_level=warn"}));
  }
  StartedRole worker = StartRole(
      "worker", {"worker", "--coordinator=" + coordinator.address, "--metrics_port=-1",
                 "--log_level=warn"});
  // A short retry budget: the coordinator exits at the end of the run.
  CoordinatorClient coord(coordinator.address, RpcOptions(), absl::Seconds(1));
  bool killed = !kill_one;
  std::string how;
  const absl::Time give_up = absl::Now() + absl::Seconds(240);
  while (!coordinator.process->Exited(&how) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
    auto st = coord.GetStatus();
    if (!st.ok()) continue;  // the coordinator is lingering or gone
    outcome.promotions = st->promotions();
    if (!killed && st->history_size() > 0 && st->history(0).complete()) {
      ::kill(servers[1].process->pid(), SIGKILL);  // mid-run: epoch 1 is training
      killed = true;
    }
  }
  outcome.completed = coordinator.process->Exited(&how) && coordinator.process->ExitedCleanly();
  std::printf("run %s: coordinator done after %.1f s\n", out.c_str(),
              absl::ToDoubleSeconds(absl::Now() - (give_up - absl::Seconds(240))));
  EXPECT_TRUE(outcome.completed) << how;
  worker.process->Stop(absl::Seconds(5));
  for (auto& s : servers) s.process->Stop(absl::Seconds(5));
  std::printf("run %s: processes stopped after %.1f s\n", out.c_str(),
              absl::ToDoubleSeconds(absl::Now() - (give_up - absl::Seconds(240))));
  if (!outcome.completed) return outcome;
  auto eval = RunPsrec({"eval", "--model_dir=" + out,
                        "--test_negatives=" + data + "/test.negative",
                        "--metrics_json=" + out + "/eval.json"},
                       120);
  EXPECT_EQ(eval.exit_code, 0) << eval.err;
  outcome.hr = testing_util::JsonNumber(testing_util::ReadFile(out + "/eval.json"), "hr_at_10");
  return outcome;
}

TEST(ReplicationEndToEndTest, KilledServerDoesNotChangeTheResult) {
  const std::string dir = testing_util::MakeTempDir("replication_e2e");
  const std::string data = dir + "/data";
  auto gen = RunPsrec({"gen", "--out=" + data, "--gen_users=600", "--gen_items=300"}, 60);
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  RunOutcome clean = TrainWithReplicas(data, dir + "/clean", false);
  RunOutcome faulty = TrainWithReplicas(data, dir + "/faulty", true);
  ASSERT_TRUE(clean.completed && faulty.completed);
  EXPECT_GE(faulty.promotions, 1u);
  std::printf("replication end to end: HR@10 %.4f fault-free, %.4f with server 1 killed\n",
              clean.hr, faulty.hr);
  EXPECT_GT(clean.hr, 0.0);
  EXPECT_NEAR(faulty.hr, clean.hr, 0.02);
}

}  // namespace
}  // namespace psrec
