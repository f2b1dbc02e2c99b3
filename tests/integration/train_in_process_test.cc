// `psrec train --servers=0` (MF in one process, HOGWILD! threads) against
// the distributed run on the same data and flags.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using testing_util::JsonNumber;
using testing_util::MakeTempDir;
using testing_util::GeneratePlantedRatings;
using testing_util::PlantedMfSgdFlags;
using testing_util::ReadFile;
using testing_util::RunPsrec;


TEST(TrainInProcessTest, SameRmseAsTheDistributedRun) {
  const std::string dir = MakeTempDir("in_process_rmse");
  const std::string data = GeneratePlantedRatings(dir + "/data");

  auto args = PlantedMfSgdFlags(data, dir + "/local.json");
  args.insert(args.end(), {"--servers=0", "--workers=2", "--model_out=" + dir + "/model"});
  auto local = RunPsrec(args);
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_NE(local.out.find("in this process"), std::string::npos) << local.out;

  args = PlantedMfSgdFlags(data, dir + "/dist.json");
  args.insert(args.end(), {"--servers=2", "--workers=2"});
  auto dist = RunPsrec(args);
  ASSERT_EQ(dist.exit_code, 0) << dist.err;

  const std::string local_json = ReadFile(dir + "/local.json");
  const std::string dist_json = ReadFile(dir + "/dist.json");
  const double local_rmse = JsonNumber(local_json, "rmse");
  const double dist_rmse = JsonNumber(dist_json, "rmse");
  // Both learn the planted model: predicting the training mean scores 0.778
  // on this test set; both reach ~0.707 after 8 epochs.
  EXPECT_LT(local_rmse, 0.74) << local_json;
  EXPECT_LT(dist_rmse, 0.74) << dist_json;
  // The same update per rating (lr on a batch's mean loss, so a rating's
  // step is lr * 2e / batch in both); they differ only in which values each
  // update reads (asynchronous workers, HOGWILD! threads, summed duplicate
  // items in a batch). Measured over seeds 1, 2, 42: |difference| <= 0.001;
  // 0.01 is ten times that and a seventh of the gap to the mean predictor.
  EXPECT_NEAR(local_rmse, dist_rmse, 0.01) << local_json << dist_json;
  EXPECT_EQ(JsonNumber(local_json, "train_examples"), JsonNumber(dist_json, "train_examples"));
  EXPECT_EQ(JsonNumber(local_json, "servers"), 0);

  // The model it wrote is an ordinary saved model: psrec eval scores it the same.
  auto eval = RunPsrec({"eval", "--model_dir=" + dir + "/model", "--test=" + data + "/test.rating",
                        "--metrics_json=" + dir + "/eval.json"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  EXPECT_NEAR(JsonNumber(ReadFile(dir + "/eval.json"), "rmse"), local_rmse, 1e-4);
}

TEST(TrainInProcessTest, OtherModelsNeedServers) {
  const std::string dir = MakeTempDir("in_process_gmf");
  auto r = RunPsrec({"train", "--servers=0", "--model=gmf", "--epochs=1", "--run_dir=" + dir,
                     "--log_level=warn"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--servers=0 trains --model=mf only"), std::string::npos) << r.err;
}

// Flags the in-process trainer cannot honour are refused, not ignored; so is
// a resume of a run that writes no checkpoint rounds.
TEST(TrainInProcessTest, UnsupportedCombinationsAreRefused) {
  const std::string dir = MakeTempDir("in_process_flags");
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--servers=0", "--consistency=bsp"},
        std::vector<std::string>{"--servers=0", "--replicas=2"},
        std::vector<std::string>{"--servers=0", "--resume=" + dir}}) {
    std::vector<std::string> args = {"train", "--model=mf", "--epochs=1", "--log_level=warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = RunPsrec(args);
    EXPECT_EQ(r.exit_code, 2) << extra.back() << r.err;
    EXPECT_NE(r.err.find("--servers=0 trains in this process"), std::string::npos) << r.err;
  }
  auto r = RunPsrec({"train", "--checkpoint_every=off", "--resume=" + dir, "--epochs=1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no rounds are written"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace psrec
