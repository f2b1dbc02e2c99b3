#include "worker/saved_model.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/worker/test_model_dir.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;
using testing_util::TestRow;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

class SavedModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ =
        (std::filesystem::path(::testing::TempDir()) / "saved_model_test" / info->name()).string();
    std::filesystem::remove_all(dir_);
    config_ = testing_util::TestRunConfig("mf", 2, 3.0);
    ASSERT_TRUE(testing_util::WriteTestModelDir(dir_, config_, 2,
                                                {{kUserTable, 1, {0.5f, 1, 0}},
                                                 {kUserTable, 4, {0, 0, 1}},
                                                 {kItemTable, 12, {1, 0, 0}},
                                                 {kItemTable, 11, {0, 1, 1}},
                                                 {kItemTable, 10, {0.1f, 2, 0}}})
                    .ok());
  }

  std::string dir_;
  rpc::RunConfig config_;
};

TEST_F(SavedModelTest, LoadsEveryShardAndScores) {
  auto saved = SavedModel::Load(dir_);
  ASSERT_TRUE(saved.ok()) << saved.status();
  SavedModel& m = **saved;
  EXPECT_EQ(m.num_shards(), 2u);
  EXPECT_EQ(m.rows(), 5u);
  EXPECT_EQ(m.config().model(), "mf");
  EXPECT_EQ(m.SortedIds(kItemTable), (std::vector<uint64_t>{10, 11, 12}));
  EXPECT_EQ(m.SortedIds(kUserTable), (std::vector<uint64_t>{1, 4}));
  EXPECT_TRUE(m.SortedIds(40).empty());
  EXPECT_TRUE(m.HasRow(kUserTable, 4));
  EXPECT_FALSE(m.HasRow(kUserTable, 2));
  EXPECT_FALSE(m.HasRow(kUserTable, 2)) << "a lookup must not create the row";
  EXPECT_EQ(m.model().user_dim(), 3u);
}

TEST_F(SavedModelTest, ManifestOfAnotherVersionIsRefusedByName) {
  const std::string path = dir_ + "/model.json";
  WriteText(path, absl::StrReplaceAll(ReadText(path),
                                      {{"\"format_version\": 2", "\"format_version\": 1"}}));
  auto saved = SavedModel::Load(dir_);
  EXPECT_EQ(saved.status().message(),
            path +
                ": model format version 1, this psrec reads version 2; retrain or use the "
                "psrec that wrote it");
}

TEST_F(SavedModelTest, MissingDirectoryOrShardIsNamed) {
  EXPECT_THAT(SavedModel::Load(dir_ + "/nope").status().message(),
              HasSubstr(dir_ + "/nope/model.json: no model here"));
  std::filesystem::remove(dir_ + "/shard-1.psm");
  EXPECT_THAT(SavedModel::Load(dir_).status().message(),
              HasSubstr(dir_ + "/shard-1.psm: missing; model.json lists 2 shard files"));
}

TEST_F(SavedModelTest, LayoutDisagreeingWithModelJsonIsNamed) {
  // model.json edited to dim 3 (tables of 4 floats); the shards hold 3.
  const std::string path = dir_ + "/model.json";
  WriteText(path, absl::StrReplaceAll(ReadText(path), {{"\"dim\": 3", "\"dim\": 4"}}));
  auto saved = SavedModel::Load(dir_);
  EXPECT_EQ(saved.status().code(), absl::StatusCode::kFailedPrecondition) << saved.status();
  EXPECT_THAT(saved.status().message(),
              HasSubstr(dir_ + "/shard-0.psm: table 0 is 'user' of dim 3 (sparse), but the "
                               "model's layout (model.json) says 'user' of dim 4 (sparse)"));
}

TEST_F(SavedModelTest, GarbageManifestIsAnErrorNotACrash) {
  for (const std::string text :
       {"", "{", "{\"format_version\": 2}",
        "{\"format_version\": 2, \"num_shards\": 0, "
        "\"config\": {}}",
        "{\"format_version\": 2, \"num_shards\": 1, \"config\": {\"model\": 5}}",
        "{\"format_version\": 2, \"num_shards\": 9, \"config\": {\"model\": \"mf\"}}"}) {
    WriteText(dir_ + "/model.json", text);
    EXPECT_FALSE(SavedModel::Load(dir_).ok()) << text;
  }
}

}  // namespace
}  // namespace psrec
