// --average_epochs end to end (README "Models"): the model psrec train keeps,
// saves and reports is the mean of the parameters at the ends of the last N
// epochs. Under bsp a seed gives the same parameters every run, so the mean
// can be checked against runs that stop after those epochs.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;
using testing_util::GenerateImplicitData;
using testing_util::ImplicitData;
using testing_util::JsonNumber;
using testing_util::MakeTempDir;
using testing_util::NpyFloats;
using testing_util::ReadFile;
using testing_util::RunPsrec;

// Trains gmf under bsp (identical parameters for a seed) and exports the
// model to OUT/npy.
void TrainAndExport(const ImplicitData& data, const std::string& out, int epochs, int average) {
  auto r = RunPsrec(
      {"train", "--train=" + data.train, "--test_negatives=" + data.negatives, "--model=gmf",
       "--dim=8", "--lr=0.01", "--consistency=bsp", "--seed=7", absl::StrCat("--epochs=", epochs),
       absl::StrCat("--average_epochs=", average), "--model_out=" + out + "/model",
       "--metrics_json=" + out + "/train.json", "--log_level=warn"},
      120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (average > 0) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("model: the mean of the parameters at the ends of "
                                              "epochs ",
                                              epochs - average + 1, "-", epochs)));
  }
  auto e = RunPsrec(
      {"export", "--model_dir=" + out + "/model", "--format=npy", "--out=" + out + "/npy"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
}

TEST(AveragingTest, TheModelIsTheMeanOfTheLastEpochsParameters) {
  const std::string dir = MakeTempDir("averaging");
  const ImplicitData data = GenerateImplicitData(dir, 300, 200, 15);
  TrainAndExport(data, dir + "/two", 2, 0);
  TrainAndExport(data, dir + "/three", 3, 0);
  TrainAndExport(data, dir + "/mean", 3, 2);
  for (const char* file : {"user_embeddings.npy", "item_embeddings.npy", "output.npy"}) {
    const std::vector<float> two = NpyFloats(dir + "/two/npy/" + file);
    const std::vector<float> three = NpyFloats(dir + "/three/npy/" + file);
    const std::vector<float> mean = NpyFloats(dir + "/mean/npy/" + file);
    ASSERT_EQ(two.size(), mean.size()) << file;
    ASSERT_EQ(three.size(), mean.size()) << file;
    double moved = 0;
    for (size_t i = 0; i < mean.size(); ++i) {
      ASSERT_NEAR(mean[i], 0.5f * (two[i] + three[i]), 1e-5f) << file << " float " << i;
      moved += std::fabs(two[i] - three[i]);
    }
    EXPECT_GT(moved, 0) << file << ": epoch 3 changed nothing, the test shows nothing";
  }

  // The saved model is the reported one: eval reproduces the final metrics.
  const std::string json = ReadFile(dir + "/mean/train.json");
  EXPECT_EQ(JsonNumber(json, "average_epochs"), 2) << json;
  auto eval =
      RunPsrec({"eval", "--model_dir=" + dir + "/mean/model", "--test_negatives=" + data.negatives,
                "--metrics_json=" + dir + "/eval.json"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const std::string eval_json = ReadFile(dir + "/eval.json");
  EXPECT_EQ(JsonNumber(eval_json, "hr_at_10"), JsonNumber(json, "hr_at_10"));
  EXPECT_EQ(JsonNumber(eval_json, "ndcg_at_10"), JsonNumber(json, "ndcg_at_10"));
}

TEST(AveragingTest, RefusesWhatItCannotHonour) {
  auto more = RunPsrec({"train", "--epochs=3", "--average_epochs=4"});
  EXPECT_NE(more.exit_code, 0);
  EXPECT_THAT(more.err, HasSubstr("--average_epochs=4 is more than --epochs=3"));
  auto validation = RunPsrec({"train", "--average_epochs=2", "--validation=auto"});
  EXPECT_NE(validation.exit_code, 0);
  EXPECT_THAT(validation.err, HasSubstr("--average_epochs=2 with --validation=auto"));
  auto standalone = RunPsrec({"coordinator", "--train=/nonexistent", "--average_epochs=2"});
  EXPECT_NE(standalone.exit_code, 0);
  EXPECT_THAT(standalone.err, HasSubstr("a standalone coordinator does not average"));
}

}  // namespace
}  // namespace psrec
