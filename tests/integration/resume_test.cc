// psrec train --resume=RUN_DIR: a run whose driver was killed continues from
// its last complete checkpoint round; another configuration is refused,
// naming the differing fields.
#include <signal.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "coordinator/coordinator_client.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using testing_util::MakeTempDir;
using testing_util::ReadFile;
using testing_util::RunPsrec;
using testing_util::RunResult;

std::vector<std::string> Args(const std::string& dir) {
  return {"train",
          "--epochs=3",
          "--data_shards=8",
          "--checkpoint_every=100",
          "--run_dir=" + dir,
          "--progress=off",
          "--timeout_seconds=60"};
}

// A child's pid and port from children.txt (0 until it is listed).
std::pair<pid_t, int> ChildOf(const std::string& dir, const std::string& name) {
  std::istringstream in(ReadFile(dir + "/children.txt"));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    pid_t pid = 0;
    int port = 0;
    if (f.size() == 3 && f[0] == name && absl::SimpleAtoi(f[1], &pid) &&
        absl::SimpleAtoi(f[2], &port)) {
      return {pid, port};
    }
  }
  return {0, 0};
}

pid_t ParentOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string comm, state;
  pid_t self = 0, parent = 0;
  in >> self >> comm >> state >> parent;
  return parent;
}

TEST(Resume, AStoppedRunContinuesFromItsLastCompleteRound) {
  const std::string dir = MakeTempDir("resume");
  RunResult first;
  std::thread runner([&] { first = RunPsrec(Args(dir), 120); });
  // Stop the driver (SIGKILL) once epoch 1 is done and a round completed.
  uint64_t round = 0;
  uint64_t round_at_epoch_end = 0;  // a round after epoch 1 ended holds it whole
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  std::unique_ptr<CoordinatorClient> client;
  while (absl::Now() < give_up && round == 0) {
    absl::SleepFor(absl::Milliseconds(50));
    auto [pid, port] = ChildOf(dir, "coordinator");
    if (pid == 0) continue;
    if (!client) client = std::make_unique<CoordinatorClient>(absl::StrCat("127.0.0.1:", port), RpcOptions());
    auto s = client->GetStatus();
    if (!s.ok() || s->history_size() < 1 || !s->history(0).complete()) continue;
    if (round_at_epoch_end == 0) round_at_epoch_end = s->checkpoint().last_complete_round() + 1;
    if (s->checkpoint().last_complete_round() <= round_at_epoch_end) continue;
    round = s->checkpoint().last_complete_round();
    ASSERT_EQ(::kill(ParentOf(pid), SIGKILL), 0);
  }
  runner.join();
  ASSERT_GT(round, 0u) << "the run never completed a round: " << first.err;
  ASSERT_NE(first.exit_code, 0);

  std::vector<std::string> changed = Args(dir);
  changed.push_back("--dim=16");
  changed.push_back("--resume=" + dir);
  RunResult refused = RunPsrec(changed, 60);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("differing: dim, tables"), std::string::npos) << refused.err;

  std::vector<std::string> same = Args(dir);
  same.push_back("--resume=" + dir);
  RunResult resumed = RunPsrec(same, 120);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("resumed from checkpoint round"), std::string::npos);
  EXPECT_NE(resumed.out.find("(trained before the resume)"), std::string::npos) << resumed.out;
  EXPECT_NE(resumed.err.find("restored"), std::string::npos);
  for (int e = 1; e <= 3; ++e) {
    EXPECT_NE(resumed.out.find(absl::StrCat("coverage epoch ", e,
                                            ": 391560 of 391560 examples "
                                            "at least once (all)")),
              std::string::npos)
        << resumed.out;
  }
  EXPECT_NE(resumed.out.find("final (epoch 3): HR@10"), std::string::npos) << resumed.out;
}

// A checkpoint directory that cannot be written fails every round, loudly,
// and the run still completes.
TEST(Checkpoints, AnUnwritableDirectoryIsReportedAndNotFatal) {
  const std::string dir = MakeTempDir("unwritable");
  std::vector<std::string> args = Args(dir);
  args.push_back("--checkpoint_dir=/proc/psrec-cannot-write-here");
  RunResult run = RunPsrec(args, 120);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.err.find("failed"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("checkpoints: last complete round 0,"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("final (epoch 3): HR@10"), std::string::npos) << run.out;
}

// SIGTERM on a server: it finishes what is in flight, writes its final
// snapshot and exits 0; `psrec train` starts it again and it restores that
// snapshot, so nothing it acknowledged is lost.
TEST(Sigterm, AServerSavesItsShardExitsCleanlyAndComesBackWithIt) {
  const std::string dir = MakeTempDir("sigterm");
  RunResult run;
  std::thread runner([&] { run = RunPsrec(Args(dir), 120); });
  std::unique_ptr<CoordinatorClient> client;
  bool sent = false;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (absl::Now() < give_up && !sent) {
    absl::SleepFor(absl::Milliseconds(50));
    auto [coord, port] = ChildOf(dir, "coordinator");
    auto [server, unused] = ChildOf(dir, "server 1");
    if (coord == 0 || server == 0) continue;
    if (!client) client = std::make_unique<CoordinatorClient>(absl::StrCat("127.0.0.1:", port), RpcOptions());
    auto s = client->GetStatus();
    if (!s.ok() || s->checkpoint().last_complete_round() < 1 || s->history_size() < 2) continue;
    ASSERT_EQ(::kill(server, SIGTERM), 0);
    sent = true;
  }
  runner.join();
  ASSERT_TRUE(sent) << run.err;
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.err.find("server 1 exited with status 0; restarting it"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("final snapshot"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("(its SIGTERM snapshot)"), std::string::npos) << run.err;
  for (int e = 1; e <= 3; ++e) {
    EXPECT_NE(run.out.find(absl::StrCat("coverage epoch ", e,
                                        ": 391560 of 391560 examples at "
                                        "least once (all)")),
              std::string::npos)
        << run.out;
  }
}

}  // namespace
}  // namespace psrec
