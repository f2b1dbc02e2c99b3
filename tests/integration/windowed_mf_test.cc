// --sync_every (worker/windowed_mf.h): MF through real server and worker
// processes in windows of ratings, against the single-process run; every
// worker's row changes reach the servers; the runs it cannot honour are
// refused before anything starts.
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

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


// The value of "key" inside the JSON object that follows "object": (flat).
double NestedNumber(const std::string& json, const std::string& object, const std::string& key) {
  const size_t at = json.find("\"" + object + "\"");
  if (at == std::string::npos) return -1;
  return JsonNumber(json.substr(at, json.find('}', at) - at + 1), key);
}

size_t DistinctUsers(const std::string& ratings_path) {
  std::ifstream in(ratings_path);
  std::unordered_set<std::string> users;
  std::string line;
  while (std::getline(in, line)) users.insert(line.substr(0, line.find('\t')));
  return users.size();
}

TEST(WindowedMfTest, SameRmseAsTheInProcessRun) {
  const std::string dir = MakeTempDir("windowed_rmse");
  const std::string data = GeneratePlantedRatings(dir + "/data");

  auto args = PlantedMfSgdFlags(data, dir + "/local.json");
  args.insert(args.end(), {"--servers=0", "--workers=1"});
  auto local = RunPsrec(args);
  ASSERT_EQ(local.exit_code, 0) << local.err;

  args = PlantedMfSgdFlags(data, dir + "/windowed.json");
  // ~16k ratings per data shard: a few windows per shard, one cut short.
  args.insert(args.end(), {"--servers=1", "--workers=1", "--sync_every=5000"});
  auto windowed = RunPsrec(args);
  ASSERT_EQ(windowed.exit_code, 0) << windowed.err;

  const std::string local_json = ReadFile(dir + "/local.json");
  const std::string windowed_json = ReadFile(dir + "/windowed.json");
  const double local_rmse = JsonNumber(local_json, "rmse");
  const double windowed_rmse = JsonNumber(windowed_json, "rmse");
  // Predicting the training mean scores 0.778 here; both learn the planted
  // model. The same step per rating and the same sgd loop (MfSgdSweep); they
  // differ in the order of the ratings only. Tolerance as in
  // TrainInProcessTest.SameRmseAsTheDistributedRun.
  EXPECT_LT(windowed_rmse, 0.74) << windowed_json;
  EXPECT_NEAR(local_rmse, windowed_rmse, 0.01) << local_json << windowed_json;
  EXPECT_EQ(JsonNumber(local_json, "train_examples"), JsonNumber(windowed_json, "train_examples"));
  EXPECT_EQ(JsonNumber(windowed_json, "sync_every"), 5000);
  // Every row update on the server was a worker's change, none a gradient.
  const double user_updates = NestedNumber(windowed_json, "server_row_updates", "user");
  EXPECT_GT(user_updates, 0) << windowed_json;
  EXPECT_EQ(NestedNumber(windowed_json, "server_delta_rows", "user"), user_updates);
  EXPECT_EQ(NestedNumber(windowed_json, "server_delta_rows", "item"),
            NestedNumber(windowed_json, "server_row_updates", "item"));
}

TEST(WindowedMfTest, EveryWorkersChangesLandOnTheServers) {
  const std::string dir = MakeTempDir("windowed_two_workers");
  const std::string data = GeneratePlantedRatings(dir + "/data");
  auto args = PlantedMfSgdFlags(data, dir + "/m.json");
  // A window bigger than any data shard: each shard is one window per epoch.
  // Data shards split by user, so each epoch pushes every user row once.
  args.insert(args.end(), {"--servers=2", "--workers=2", "--data_shards=4", "--epochs=3",
                           "--sync_every=1000000000"});
  auto r = RunPsrec(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = ReadFile(dir + "/m.json");
  const double users = static_cast<double>(DistinctUsers(data + "/train.rating"));
  ASSERT_GT(users, 0);
  // Summed over both servers: lost or doubled pushes of either worker would
  // show here.
  EXPECT_EQ(NestedNumber(json, "server_delta_rows", "user"), 3 * users) << json;
  EXPECT_EQ(NestedNumber(json, "server_row_updates", "user"), 3 * users) << json;
  EXPECT_LT(JsonNumber(json, "rmse"), 0.76) << json;
}

TEST(WindowedMfTest, CheckpointRoundsCompleteBetweenWindows) {
  const std::string dir = MakeTempDir("windowed_rounds");
  const std::string data = GeneratePlantedRatings(dir + "/data");
  auto args = PlantedMfSgdFlags(data, dir + "/m.json");
  // A round waits for the leased shards; a shard ends after its last window
  // was pushed, so rounds hold whole windows.
  args.insert(args.end(), {"--servers=2", "--workers=2", "--sync_every=3000",
                           "--checkpoint_every=20", "--run_dir=" + dir + "/run"});
  auto r = RunPsrec(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("checkpoints: last complete round "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("checkpoints: last complete round 0,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", 0 failed"), std::string::npos) << r.out;
  for (int e = 1; e <= 8; ++e) {
    EXPECT_NE(r.out.find(absl::StrCat("coverage epoch ", e, ": 32191 of 32191 examples at least "
                                      "once (all)")),
              std::string::npos)
        << r.out;
  }
  EXPECT_LT(JsonNumber(ReadFile(dir + "/m.json"), "rmse"), 0.76);
}

TEST(WindowedMfTest, RefusesRunsItCannotHonour) {
  const std::string dir = MakeTempDir("windowed_refusals");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--model=gmf"}, "--model=mf"},
      {{"--model=mf", "--optimizer=adam"}, "--optimizer=sgd"},
      {{"--model=mf", "--optimizer=sgd", "--consistency=bsp"}, "--consistency=bsp"},
      {{"--model=mf", "--optimizer=sgd", "--consistency=ssp"}, "--consistency=ssp"},
      {{"--model=mf", "--optimizer=sgd", "--replicas=2", "--servers=2"}, "--replicas=2"},
  };
  for (const auto& [flags, named] : cases) {
    std::vector<std::string> args = {"train", "--sync_every=1000", "--epochs=1",
                                     "--run_dir=" + dir};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = RunPsrec(args, 60);
    EXPECT_NE(r.exit_code, 0) << flags[0];
    EXPECT_NE(r.err.find("--sync_every=1000"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace psrec
