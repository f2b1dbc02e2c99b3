// --consistency end to end: `psrec train` with 2 servers and 2 workers as
// real processes on the synthetic default data.
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
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
  std::vector<std::string> args = {"train", "--epochs=2", "--run_dir=" + dir,
                                   "--metrics_json=" + dir + "/m.json", "--log_level=warn",
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
  EXPECT_NE(r.err.find("--consistency=eventual: valid: asp, ssp, bsp"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace psrec
