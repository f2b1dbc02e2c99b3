// `psrec train` end to end: real coordinator, server and worker processes on
// loopback, started by the binary itself.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using testing_util::DataDir;
using testing_util::JsonNumber;
using testing_util::MakeTempDir;
using testing_util::ReadFile;
using testing_util::RunPsrec;

TEST(TrainTest, SyntheticRankingLearnsAndCountsExamples) {
  const std::string dir = MakeTempDir("synthetic_ranking");
  auto r = RunPsrec({"train", "--epochs=4", "--run_dir=" + dir, "--metrics_json=" + dir + "/m.json",
                     "--log_level=warn"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = ReadFile(dir + "/m.json");
  // Random scores give HR@10 ~ 0.1; the planted factors are learnable.
  EXPECT_GT(JsonNumber(json, "hr_at_10"), 0.3) << json;
  EXPECT_GT(JsonNumber(json, "ndcg_at_10"), 0.15) << json;
  // Every positive of every epoch, each with 4 negatives.
  const std::string train = ReadFile(dir + "/train.rating");
  const double positives = std::count(train.begin(), train.end(), '\n');
  EXPECT_EQ(JsonNumber(json, "train_examples"), 4 * positives * 5);
  EXPECT_GT(JsonNumber(json, "examples_per_second"), 0);
  EXPECT_EQ(JsonNumber(json, "epochs"), 4);
  EXPECT_NE(json.find("\"history\""), std::string::npos);
}

TEST(TrainTest, SyntheticRatingBeatsTheMean) {
  const std::string dir = MakeTempDir("synthetic_rating");
  auto r = RunPsrec({"train", "--model=mf", "--epochs=10", "--run_dir=" + dir,
                     "--metrics_json=" + dir + "/m.json", "--log_level=warn"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = ReadFile(dir + "/m.json");
  // RMSE of always predicting the training mean, computed here from the files.
  std::ifstream train(dir + "/train.rating"), test(dir + "/test.rating");
  double sum = 0, n = 0, u, i, rating, ts;
  while (train >> u >> i >> rating >> ts) sum += rating, n += 1;
  const double mean = sum / n;
  double sq = 0, m = 0;
  while (test >> u >> i >> rating >> ts) sq += (rating - mean) * (rating - mean), m += 1;
  const double mean_rmse = std::sqrt(sq / m);
  EXPECT_LT(JsonNumber(json, "rmse"), 0.9 * mean_rmse) << json;
}

class SavedModelTest : public ::testing::TestWithParam<const char*> {};

// save -> load -> eval: every model type (dense tower and output tensors
// included) evaluates to exactly the metrics the training run printed.
TEST_P(SavedModelTest, EvaluatesToTheSameMetrics) {
  const std::string model = GetParam();
  const bool rating = model == "mf" || model == "mf_mlp";
  const std::string dir = MakeTempDir("model_out_" + model);
  auto r = RunPsrec({"train", "--model=" + model, "--epochs=2", "--run_dir=" + dir,
                     "--model_out=" + dir + "/model", "--metrics_json=" + dir + "/train.json",
                     "--dropout=" + std::string(rating || model == "gmf" ? "0" : "0.1"),
                     "--log_level=warn"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto e = RunPsrec({"eval", "--model_dir=" + dir + "/model",
                     rating ? "--test=" + dir + "/test.rating"
                            : "--test_negatives=" + dir + "/test.negative",
                     "--metrics_json=" + dir + "/eval.json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const std::string t = ReadFile(dir + "/train.json"), v = ReadFile(dir + "/eval.json");
  for (const char* metric : {"hr_at_10", "ndcg_at_10", "rmse", "mae"}) {
    if ((std::string(metric) == "rmse" || std::string(metric) == "mae") != rating) continue;
    EXPECT_EQ(JsonNumber(t, metric), JsonNumber(v, metric)) << metric;
    EXPECT_FALSE(std::isnan(JsonNumber(v, metric))) << metric;
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, SavedModelTest,
                         ::testing::Values("gmf", "mlp", "neumf", "mf", "mf_mlp"));

// Implicit feedback through real servers, with the best-epoch snapshot: the
// saved model has the term folded into its user rows (no y table) and still
// evaluates to exactly the training run's figures (mf_mlp's default path is
// covered above).
TEST(TrainTest, ImplicitFeedbackModelIsFoldedAndEvaluatesTheSame) {
  const std::string dir = MakeTempDir("implicit_mf");
  auto r = RunPsrec({"train", "--model=mf", "--implicit_feedback=true", "--epochs=3",
                     "--validation=auto", "--run_dir=" + dir, "--model_out=" + dir + "/model",
                     "--metrics_json=" + dir + "/train.json", "--log_level=warn"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string manifest = ReadFile(dir + "/model/model.json");
  EXPECT_NE(manifest.find("\"implicit_folded\": true"), std::string::npos) << manifest;
  EXPECT_EQ(manifest.find("\"name\": \"implicit\""), std::string::npos) << manifest;
  auto e = RunPsrec({"eval", "--model_dir=" + dir + "/model", "--test=" + dir + "/test.rating",
                     "--metrics_json=" + dir + "/eval.json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const std::string t = ReadFile(dir + "/train.json"), v = ReadFile(dir + "/eval.json");
  EXPECT_EQ(JsonNumber(t, "rmse"), JsonNumber(v, "rmse"));
  EXPECT_EQ(JsonNumber(t, "mae"), JsonNumber(v, "mae"));
  // Models without a dot product refuse it, naming the flag.
  auto bad = RunPsrec({"train", "--model=gmf", "--implicit_feedback=true", "--epochs=1",
                       "--run_dir=" + dir + "/bad"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--implicit_feedback"), std::string::npos) << bad.err;
}

// The neural models learn the synthetic data set's planted structure, with
// either ranking loss.
TEST(TrainTest, NeuralRankingModelsLearn) {
  const std::string data = MakeTempDir("neural_data");
  auto g = RunPsrec({"gen", "--out=" + data, "--gen_users=400", "--gen_items=300",
                     "--gen_per_user=30"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--model=mlp"}, {"--model=neumf"},
        {"--model=neumf", "--loss=bpr"}}) {
    SCOPED_TRACE(flags.back());
    const std::string dir = MakeTempDir("neural");
    std::vector<std::string> args = {"train", "--epochs=6", "--lr=0.003",
                                     "--train=" + data + "/train.rating",
                                     "--test_negatives=" + data + "/test.negative",
                                     "--metrics_json=" + dir + "/m.json", "--log_level=warn"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = RunPsrec(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string json = ReadFile(dir + "/m.json");
    // Random scores: ~0.1; untrained (lr 1e-5): 0.26; trained: 0.36-0.57.
    EXPECT_GT(JsonNumber(json, "hr_at_10"), 0.32) << json;
  }
}

TEST(TrainTest, MalformedLineNamesFileAndLineAndWritesNoModel) {
  const std::string dir = MakeTempDir("bad_line");
  {
    std::ofstream f(dir + "/bad.tsv");
    f << "1\t10\t4\t100\n2\t11\t3\t101\n3\tabc\t5\t102\n";
  }
  auto r = RunPsrec({"train", "--model=mf", "--train=" + dir + "/bad.tsv",
                     "--model_out=" + dir + "/model", "--epochs=1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(dir + "/bad.tsv:3:"), std::string::npos) << r.err;
  struct stat st;
  EXPECT_NE(stat((dir + "/model").c_str(), &st), 0) << "a model was written";
}

TEST(TrainTest, UsageErrorsSayWhatToDo) {
  auto missing = RunPsrec({"train", "--model=mf", "--train=/nonexistent/ratings.csv"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("/nonexistent/ratings.csv: no such file"), std::string::npos)
      << missing.err;

  auto model = RunPsrec({"train", "--model=svd"});
  EXPECT_EQ(model.exit_code, 2);
  EXPECT_NE(model.err.find("valid: mf, gmf"), std::string::npos) << model.err;

  const std::string dir = MakeTempDir("usage");
  { std::ofstream(dir + "/t.rating") << "1\t2\t1\t0\n"; }
  auto ranking = RunPsrec({"train", "--train=" + dir + "/t.rating"});
  EXPECT_EQ(ranking.exit_code, 2);
  EXPECT_NE(ranking.err.find("--test_negatives"), std::string::npos) << ranking.err;

  auto opt = RunPsrec({"train", "--optimizer=lbfgs"});
  EXPECT_EQ(opt.exit_code, 2);
  EXPECT_NE(opt.err.find("valid: sgd, adagrad, adam"), std::string::npos) << opt.err;

  auto role = RunPsrec({"trian"});
  EXPECT_EQ(role.exit_code, 2);
  EXPECT_NE(role.err.find("unknown role 'trian'"), std::string::npos) << role.err;
}

TEST(TrainTest, WorkerGivesUpOnAnUnreachableCoordinatorNamingIt) {
  const absl::Time start = absl::Now();
  auto r = RunPsrec({"worker", "--coordinator=127.0.0.1:1", "--timeout_seconds=2"}, 60);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot reach coordinator at 127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
}

// Killing the driver with SIGKILL leaves no coordinator, server or worker
// behind: each child dies with its parent (PR_SET_PDEATHSIG).
TEST(TrainTest, KilledDriverLeavesNoProcessBehind) {
  const std::string dir = MakeTempDir("orphans");
  const std::string out = dir + "/out.txt";
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(PSREC_BINARY, PSREC_BINARY, "train", "--epochs=50", ("--run_dir=" + dir).c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (ReadFile(out).find("epoch   1/50") == std::string::npos && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_NE(ReadFile(out).find("epoch   1/50"), std::string::npos) << ReadFile(out);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = kill(-pid, 0) != 0 && errno == ESRCH;
    if (!gone) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(gone) << "processes of the run are still alive";
  kill(-pid, SIGKILL);
}

TEST(MovieLensTest, GmfRankingShortRun) {
  const std::string data = DataDir();
  PSREC_REQUIRE(!data.empty(), "MovieLens (ml-100k-loo)");
  const std::string dir = MakeTempDir("ml_gmf");
  auto r = RunPsrec({"train", "--train=" + data + "/ml-100k-loo/train.rating",
                     "--test_negatives=" + data + "/ml-100k-loo/test.negative", "--epochs=6",
                     "--metrics_json=" + dir + "/m.json", "--log_level=warn"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = ReadFile(dir + "/m.json");
  EXPECT_GT(JsonNumber(json, "hr_at_10"), 0.45) << json;
  EXPECT_GT(JsonNumber(json, "ndcg_at_10"), 0.25) << json;
}

TEST(MovieLensTest, MfRatingShortRun) {
  const std::string data = DataDir();
  PSREC_REQUIRE(!data.empty(), "MovieLens (ml-100k)");
  const std::string dir = MakeTempDir("ml_mf");
  auto r = RunPsrec({"train", "--model=mf", "--train=" + data + "/ml-100k/u1.base",
                     "--test=" + data + "/ml-100k/u1.test", "--epochs=8",
                     "--metrics_json=" + dir + "/m.json", "--log_level=warn"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = ReadFile(dir + "/m.json");
  EXPECT_LT(JsonNumber(json, "rmse"), 0.98) << json;
  EXPECT_LT(JsonNumber(json, "mae"), 0.80) << json;
}

}  // namespace
}  // namespace psrec
