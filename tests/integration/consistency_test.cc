// --consistency end to end: `psrec train` with 2 servers and 2 workers as
// real processes on the synthetic default data.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <signal.h>

#include <cmath>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/child_process.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using testing_util::JsonNumber;
using testing_util::MakeTempDir;
using testing_util::ReadFile;
using testing_util::RunPsrec;

std::string Train(const std::string& name, const std::vector<std::string>& flags) {
  const std::string dir = MakeTempDir(name);
  std::vector<std::string> args = {"train",
                                   "--epochs=2",
                                   "--run_dir=" + dir,
                                   "--metrics_json=" + dir + "/m.json",
                                   "--log_level=warn",
                                   "--progress=off"};
  args.insert(args.end(), flags.begin(), flags.end());
  auto r = RunPsrec(args, 120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return ReadFile(dir + "/m.json");
}

double Round4(double v) { return std::round(v * 1e4) / 1e4; }

TEST(ConsistencyTest, BspWithAFixedSeedGivesTheSameMetricsTwice) {
  const std::string a = Train("bsp_a", {"--consistency=bsp", "--seed=5"});
  const std::string b = Train("bsp_b", {"--consistency=bsp", "--seed=5"});
  ASSERT_NE(a.find("\"consistency\": \"bsp\""), std::string::npos) << a;
  for (const char* key : {"hr_at_10", "ndcg_at_10", "train_loss", "train_examples"}) {
    const double va = JsonNumber(a, key), vb = JsonNumber(b, key);
    ASSERT_FALSE(std::isnan(va)) << key << " missing in " << a;
    EXPECT_EQ(Round4(va), Round4(vb)) << key << ": " << va << " vs " << vb;
  }
  // Learned something (random scores give HR@10 ~ 0.1).
  EXPECT_GT(JsonNumber(a, "hr_at_10"), 0.3) << a;
  EXPECT_EQ(JsonNumber(a, "max_clock_ahead"), 0) << "bsp: nobody ever ran ahead";
}

TEST(ConsistencyTest, SspNeverLetsAWorkerRunMoreThanStalenessClocksAhead) {
  const std::string m = Train("ssp", {"--consistency=ssp", "--staleness=1"});
  ASSERT_NE(m.find("\"consistency\": \"ssp\""), std::string::npos) << m;
  EXPECT_EQ(JsonNumber(m, "staleness"), 1);
  // The coordinator records, at every clock a worker starts, how far ahead
  // of the slowest worker it is.
  const double ahead = JsonNumber(m, "max_clock_ahead");
  ASSERT_FALSE(std::isnan(ahead)) << m;
  EXPECT_LE(ahead, 1) << m;
  EXPECT_GE(JsonNumber(m, "clock_wait_seconds"), 0) << m;
  EXPECT_GT(JsonNumber(m, "hr_at_10"), 0.3) << m;
}

TEST(ConsistencyTest, AnUnknownModeIsAUsageError) {
  auto r = RunPsrec({"train", "--consistency=eventual", "--epochs=1"}, 30);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--consistency=eventual: valid: asp, ssp, bsp"), std::string::npos) << r.err;
}

// A standalone cluster, so that a worker can die without ending the run.
struct Role {
  std::unique_ptr<ChildProcess> process;
  std::string address;
};

Role StartRole(const std::string& name, const std::vector<std::string>& args) {
  auto child = ChildProcess::Spawn(name, args, PSREC_BINARY);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return {};
  Role r{std::make_unique<ChildProcess>(std::move(*child)), ""};
  auto port = r.process->WaitForPort(absl::Seconds(60));
  EXPECT_TRUE(port.ok()) << port.status();
  if (port.ok()) r.address = absl::StrCat("127.0.0.1:", *port);
  return r;
}

// `psrec status --json` as a Struct; empty once the coordinator is gone.
google::protobuf::Struct Status(const std::string& coordinator) {
  google::protobuf::Struct s;
  auto r = RunPsrec({"status", "--coordinator=" + coordinator, "--json"}, 30);
  if (r.exit_code == 0 && !google::protobuf::util::JsonStringToMessage(r.out, &s).ok()) s.Clear();
  return s;
}

const google::protobuf::Value& Get(const google::protobuf::Struct& s, const std::string& key) {
  static const google::protobuf::Value kNone;
  auto it = s.fields().find(key);
  return it == s.fields().end() ? kNone : it->second;
}

TEST(ConsistencyTest, ADeadWorkerLeavesTheBspBarrierAndTheRunCompletes) {
  const std::string dir = MakeTempDir("bsp_dead_worker");
  ASSERT_EQ(RunPsrec({"gen", "--out=" + dir, "--gen_users=600", "--log_level=warn"}, 60).exit_code,
            0);
  Role coordinator = StartRole(
      "coordinator", {"coordinator", "--train=" + dir + "/train.rating", "--servers=1",
                      "--workers=2", "--epochs=2", "--consistency=bsp", "--lease_timeout_seconds=2",
                      "--linger_seconds=30", "--log_level=warn"});
  ASSERT_FALSE(coordinator.address.empty());
  const std::string at = "--coordinator=" + coordinator.address;
  Role server = StartRole("server", {"server", at, "--log_level=warn"});
  Role w0 = StartRole("worker 0", {"worker", at, "--worker_index=0", "--log_level=warn"});
  Role w1 = StartRole("worker 1", {"worker", at, "--worker_index=1", "--log_level=warn"});
  ASSERT_FALSE(w1.address.empty());

  // Once both train in lockstep, worker 1 dies without a word.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  for (;;) {
    const auto s = Status(coordinator.address);
    const auto& workers = Get(s, "workers").list_value();
    if (workers.values_size() == 2 &&
        Get(workers.values(1).struct_value(), "clock").number_value() > 0) {
      break;
    }
    ASSERT_LT(absl::Now(), give_up) << "the workers never started";
    absl::SleepFor(absl::Milliseconds(100));
  }
  ::kill(w1.process->pid(), SIGKILL);

  // Worker 0 would wait for it forever; after the lease timeout worker 1
  // leaves the barrier, its shards go to worker 0 and the run completes.
  google::protobuf::Struct last;
  for (;;) {
    const auto s = Status(coordinator.address);
    if (Get(Get(s, "run").struct_value(), "done").bool_value()) {
      last = s;
      break;
    }
    ASSERT_LT(absl::Now(), give_up + absl::Seconds(30)) << "the barrier hung";
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(Get(Get(last, "run").struct_value(), "consistency").string_value(), "bsp");
  const auto& workers = Get(last, "workers").list_value();
  ASSERT_EQ(workers.values_size(), 2);
  EXPECT_FALSE(Get(workers.values(1).struct_value(), "alive").bool_value());
  EXPECT_FALSE(Get(workers.values(1).struct_value(), "in_barrier").bool_value());
  EXPECT_GT(Get(workers.values(0).struct_value(), "shards_completed").number_value(),
            Get(workers.values(1).struct_value(), "shards_completed").number_value())
      << "worker 0 took over";
}

}  // namespace
}  // namespace psrec
