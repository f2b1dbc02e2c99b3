// Recency weighting end to end (common/recency.h): the weights reach the
// workers' losses. Under bsp a seed gives the same parameters every run, so
// a run with weighting is compared with one without: different when the
// training file's timestamps order each user's interactions, identical to
// the float when it has none (every weight is then exactly 1).
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;
using testing_util::GenerateImplicitData;
using testing_util::ImplicitData;
using testing_util::MakeTempDir;
using testing_util::NpyFloats;
using testing_util::ReadFile;
using testing_util::RunPsrec;

// gmf under bsp, exported; the user embeddings.
std::vector<float> TrainUsers(const std::string& train, const std::string& negatives,
                              const std::string& out, const std::string& recency_weight) {
  auto r = RunPsrec({"train", "--train=" + train, "--test_negatives=" + negatives, "--model=gmf",
                     "--dim=8", "--lr=0.01", "--consistency=bsp", "--seed=7", "--epochs=2",
                     "--recency_weight=" + recency_weight, "--recency_halflife=2",
                     "--model_out=" + out + "/model", "--log_level=warn"},
                    120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto e = RunPsrec(
      {"export", "--model_dir=" + out + "/model", "--format=npy", "--out=" + out + "/npy"});
  EXPECT_EQ(e.exit_code, 0) << e.err;
  return NpyFloats(out + "/npy/user_embeddings.npy");
}

TEST(RecencyEndToEndTest, WeightsChangeTrainingOnlyWhenTimestampsOrderInteractions) {
  const std::string dir = MakeTempDir("recency");
  const ImplicitData data = GenerateImplicitData(dir, 200, 150, 12);
  // The same interactions without their times.
  const std::string untimed = dir + "/untimed.rating";
  {
    std::istringstream in(ReadFile(data.train));
    std::ofstream out(untimed);
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f = absl::StrSplit(line, '\t');
      ASSERT_EQ(f.size(), 4u) << line;
      out << f[0] << '\t' << f[1] << '\t' << f[2] << "\t0\n";
    }
  }
  const std::vector<float> off = TrainUsers(data.train, data.negatives, dir + "/off", "0");
  const std::vector<float> on = TrainUsers(data.train, data.negatives, dir + "/on", "4");
  ASSERT_FALSE(off.empty());
  ASSERT_EQ(off.size(), on.size());
  EXPECT_NE(off, on) << "recency weighting changed nothing";

  const std::vector<float> untimed_off = TrainUsers(untimed, data.negatives, dir + "/u0", "0");
  const std::vector<float> untimed_on = TrainUsers(untimed, data.negatives, dir + "/u4", "4");
  ASSERT_FALSE(untimed_off.empty());
  EXPECT_EQ(untimed_off, untimed_on);
}

TEST(RecencyEndToEndTest, RefusesWhatItCannotHonour) {
  auto negative = RunPsrec({"train", "--recency_weight=-2"});
  EXPECT_NE(negative.exit_code, 0);
  EXPECT_THAT(negative.err, HasSubstr("--recency_weight=-2: must be between 0 (off) and 1e6"));
  auto halflife = RunPsrec({"train", "--recency_weight=1", "--recency_halflife=-1"});
  EXPECT_NE(halflife.exit_code, 0);
  EXPECT_THAT(halflife.err, HasSubstr("--recency_halflife=-1: must be a positive number"));
  auto local = RunPsrec({"train", "--model=mf", "--servers=0", "--recency_weight=1"});
  EXPECT_NE(local.exit_code, 0);
  EXPECT_THAT(local.err, HasSubstr("--servers=0 trains unweighted"));
}

}  // namespace
}  // namespace psrec
