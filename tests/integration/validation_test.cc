// --validation=auto and --early_stopping end to end, on psrec's synthetic
// data: the run stops when validation stops improving, reports and saves the
// best epoch (not the last), and never trains on the validation interactions.
#include <algorithm>
#include <cmath>
#include <fstream>
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

// One epoch's object in the metrics file's "history" (1-based epoch).
std::string HistoryEntry(const std::string& json, int epoch) {
  const size_t at = json.find(absl::StrCat("{\"epoch\": ", epoch, ","));
  if (at == std::string::npos) return "";
  return json.substr(at, json.find('\n', at) - at);
}

// The entry's "validation" object.
std::string ValidationOf(const std::string& entry) {
  const size_t at = entry.find("\"validation\": {");
  return at == std::string::npos ? "" : entry.substr(at);
}

size_t Lines(const std::string& path) {
  const std::string text = ReadFile(path);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Small synthetic data, so a run takes a second or two.
std::string Generate(const std::string& dir, bool implicit) {
  auto gen = RunPsrec({"gen", "--out=" + dir + "/data", "--gen_users=500", "--gen_items=300",
                       "--gen_per_user=20", absl::StrCat("--implicit=", implicit)});
  EXPECT_EQ(gen.exit_code, 0) << gen.err;
  return dir + "/data";
}

TEST(ValidationTest, EarlyStoppingKeepsTheBestEpoch) {
  const std::string dir = MakeTempDir("early_stopping");
  const std::string data = Generate(dir, true);
  // A learning rate this high overfits within a few epochs: validation peaks
  // early and then falls, so patience runs out well before epoch 15.
  auto r = RunPsrec({"train", "--train=" + data + "/train.rating",
                     "--test_negatives=" + data + "/test.negative", "--epochs=15", "--lr=0.05",
                     "--validation=auto", "--early_stopping=2", "--model_out=" + dir + "/model",
                     "--metrics_json=" + dir + "/train.json", "--log_level=warn"},
                    120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = ReadFile(dir + "/train.json");
  const int epochs = static_cast<int>(JsonNumber(json, "epochs"));
  const int best = static_cast<int>(JsonNumber(json, "best_epoch"));
  EXPECT_NE(json.find("\"stopped_early\": true"), std::string::npos) << json;
  ASSERT_LT(epochs, 15) << json;
  ASSERT_GE(best, 1) << json;
  EXPECT_EQ(best, epochs - 2) << json;  // patience 2: two epochs after the best
  EXPECT_NE(r.out.find(absl::StrCat("best epoch ", best, " of ", epochs)), std::string::npos)
      << r.out;

  // The best epoch is the first with the highest validation HR@10 of the run
  // (a later tie is no improvement).
  const std::string best_entry = HistoryEntry(json, best);
  ASSERT_FALSE(best_entry.empty()) << json;
  const double best_validation = JsonNumber(ValidationOf(best_entry), "hr_at_10");
  for (int e = 1; e <= epochs; ++e) {
    const std::string v = ValidationOf(HistoryEntry(json, e));
    ASSERT_FALSE(v.empty()) << "epoch " << e << " has no validation metrics: " << json;
    if (e != best) {
      EXPECT_LE(JsonNumber(v, "hr_at_10"), best_validation) << "epoch " << e;
    }
    if (e < best) {
      EXPECT_LT(JsonNumber(v, "hr_at_10"), best_validation) << "epoch " << e;
    }
  }

  // The reported test metrics are the best epoch's, and they differ from the
  // last epoch's: otherwise this test could not tell the two apart.
  const std::string last_entry = HistoryEntry(json, epochs);
  EXPECT_EQ(JsonNumber(json, "ndcg_at_10"), JsonNumber(best_entry, "ndcg_at_10")) << json;
  EXPECT_EQ(JsonNumber(json, "hr_at_10"), JsonNumber(best_entry, "hr_at_10")) << json;
  ASSERT_NE(JsonNumber(best_entry, "ndcg_at_10"), JsonNumber(last_entry, "ndcg_at_10")) << json;

  // The saved model is the best epoch's: psrec eval reproduces its test
  // metrics exactly.
  auto e = RunPsrec({"eval", "--model_dir=" + dir + "/model",
                     "--test_negatives=" + data + "/test.negative",
                     "--metrics_json=" + dir + "/eval.json"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const std::string eval = ReadFile(dir + "/eval.json");
  EXPECT_EQ(JsonNumber(eval, "hr_at_10"), JsonNumber(best_entry, "hr_at_10")) << eval;
  EXPECT_EQ(JsonNumber(eval, "ndcg_at_10"), JsonNumber(best_entry, "ndcg_at_10")) << eval;
  EXPECT_NE(JsonNumber(eval, "ndcg_at_10"), JsonNumber(last_entry, "ndcg_at_10")) << eval;

  // Validation interactions are never trained on: each user's held-out
  // interaction is missing from every epoch's positives (4 negatives each).
  const size_t positives = Lines(data + "/train.rating") - 500;
  EXPECT_EQ(JsonNumber(best_entry, "train_examples"), 5.0 * positives) << best_entry;
  // The scratch snapshot is gone; the model directory holds just the model.
  EXPECT_FALSE(std::ifstream(dir + "/model/.best-epoch/shard-0.psm").good());
}

TEST(ValidationTest, RatingHoldsOutAFractionAndReportsRmse) {
  const std::string dir = MakeTempDir("validation_rating");
  const std::string data = Generate(dir, false);
  auto r = RunPsrec(
      {"train", "--model=mf", "--train=" + data + "/train.rating",
       "--test=" + data + "/test.rating", "--epochs=3", "--validation=auto",
       "--validation_fraction=0.1", "--metrics_json=" + dir + "/m.json", "--log_level=warn"},
      120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = ReadFile(dir + "/m.json");
  EXPECT_NE(json.find("\"stopped_early\": false"), std::string::npos) << json;
  const int best = static_cast<int>(JsonNumber(json, "best_epoch"));
  ASSERT_GE(best, 1) << json;
  ASSERT_LE(best, 3) << json;
  const std::string v = ValidationOf(HistoryEntry(json, best));
  EXPECT_GT(JsonNumber(v, "rmse"), 0) << json;
  EXPECT_LT(JsonNumber(v, "rmse"), 2.0) << json;
  const size_t train = Lines(data + "/train.rating");
  const size_t held_out = static_cast<size_t>(std::llround(0.1 * train));
  EXPECT_EQ(JsonNumber(v, "test_cases"), held_out) << json;
  EXPECT_EQ(JsonNumber(HistoryEntry(json, 1), "train_examples"), train - held_out) << json;
}

TEST(ValidationTest, EarlyStoppingWithoutValidationIsAUsageError) {
  auto r = RunPsrec({"train", "--early_stopping=3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--early_stopping=3 needs --validation=auto"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace psrec
