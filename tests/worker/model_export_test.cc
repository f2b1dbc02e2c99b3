#include "worker/model_export.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/worker/test_model_dir.h"
#include "worker/saved_model.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;

template <typename T>
std::vector<T> Values(const NpyArray& a) {
  std::vector<T> v(a.data.size() / sizeof(T));
  std::memcpy(v.data(), a.data.data(), a.data.size());
  return v;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class ModelExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    base_ =
        (std::filesystem::path(::testing::TempDir()) / "model_export_test" / info->name()).string();
    std::filesystem::remove_all(base_);
  }

  std::unique_ptr<SavedModel> Load(const rpc::RunConfig& config,
                                   const std::vector<testing_util::TestRow>& rows) {
    EXPECT_TRUE(testing_util::WriteTestModelDir(base_ + "/model", config, 3, rows).ok());
    auto saved = SavedModel::Load(base_ + "/model");
    EXPECT_TRUE(saved.ok()) << saved.status();
    return saved.ok() ? std::move(*saved) : nullptr;
  }

  std::string base_;
};

TEST_F(ModelExportTest, GmfTablesBecomeSortedNpyFilesAndExportJson) {
  auto saved = Load(testing_util::TestRunConfig("gmf", 2, 0), {{kUserTable, 30, {3, 3.5f}},
                                                               {kUserTable, 7, {0.7f, 7}},
                                                               {kUserTable, 12, {1.2f, 12}},
                                                               {kItemTable, 5, {-5, 5}},
                                                               {kItemTable, 1, {-1, 1}},
                                                               {kDenseTable, 0, {0.5f, 1, 2}}});
  ASSERT_NE(saved, nullptr);
  const std::string out = base_ + "/npy";
  auto tables = ExportModelToNpy(*saved, out);
  ASSERT_TRUE(tables.ok()) << tables.status();
  ASSERT_EQ(tables->size(), 3u);
  EXPECT_EQ((*tables)[0].rows, 3u);

  auto users = ReadNpy(out + "/user_embeddings.npy");
  ASSERT_TRUE(users.ok()) << users.status();
  EXPECT_EQ(users->descr, "<f4");
  EXPECT_EQ(users->shape, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(Values<float>(*users), (std::vector<float>{0.7f, 7, 1.2f, 12, 3, 3.5f}));
  auto user_ids = ReadNpy(out + "/user_ids.npy");
  ASSERT_TRUE(user_ids.ok()) << user_ids.status();
  EXPECT_EQ(user_ids->descr, "<i8");
  EXPECT_EQ(user_ids->shape, (std::vector<uint64_t>{3}));
  EXPECT_EQ(Values<int64_t>(*user_ids), (std::vector<int64_t>{7, 12, 30}));

  auto items = ReadNpy(out + "/item_embeddings.npy");
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(Values<float>(*items), (std::vector<float>{-1, 1, -5, 5}));
  auto item_ids = ReadNpy(out + "/item_ids.npy");
  ASSERT_TRUE(item_ids.ok());
  EXPECT_EQ(Values<int64_t>(*item_ids), (std::vector<int64_t>{1, 5}));

  auto dense = ReadNpy(out + "/output.npy");
  ASSERT_TRUE(dense.ok()) << dense.status();
  EXPECT_EQ(dense->shape, (std::vector<uint64_t>{3}));
  EXPECT_EQ(Values<float>(*dense), (std::vector<float>{0.5f, 1, 2}));

  const std::string json = ReadText(out + "/export.json");
  EXPECT_THAT(json, HasSubstr("\"format\": \"psrec-export\""));
  EXPECT_THAT(json, HasSubstr("\"model\": \"gmf\""));
  EXPECT_THAT(json, HasSubstr("\"file\": \"user_embeddings.npy\", \"shape\": [3, 2]"));
  EXPECT_THAT(json, HasSubstr("\"ids_file\": \"item_ids.npy\", \"ids_dtype\": \"<i8\""));
  EXPECT_THAT(json, HasSubstr("\"file\": \"output.npy\", \"shape\": [3]"));
  EXPECT_THAT(json, HasSubstr("logit = output[0] + dot(output[1:3], user[0:2] * item[0:2])"));
}

TEST_F(ModelExportTest, MfRowsAreDescribedAsBiasThenFactors) {
  auto saved = Load(testing_util::TestRunConfig("mf", 2, 3.5),
                    {{kUserTable, 1, {0.1f, 1, 2}}, {kItemTable, 2, {0.2f, 3, 4}}});
  ASSERT_NE(saved, nullptr);
  ASSERT_TRUE(ExportModelToNpy(*saved, base_ + "/npy").ok());
  auto users = ReadNpy(base_ + "/npy/user_embeddings.npy");
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users->shape, (std::vector<uint64_t>{1, 3}));
  const std::string json = ReadText(base_ + "/npy/export.json");
  EXPECT_THAT(json, HasSubstr("\"bias_columns\": 1"));
  EXPECT_THAT(json, HasSubstr("column 0: bias; columns 1..2: dot-product factors"));
  EXPECT_THAT(json, HasSubstr("\"global_mean\": 3.5"));
  EXPECT_THAT(json, HasSubstr("global_mean + user[0] + item[0] + dot(user[1:3], item[1:3])"));
}

TEST_F(ModelExportTest, IdsBeyondInt64AreWrittenAsUint64) {
  const uint64_t big = (1ULL << 63) + 6;  // 6 % 3 == 0: shard 0
  auto saved = Load(testing_util::TestRunConfig("mf", 1, 0),
                    {{kUserTable, 3, {0, 1}}, {kUserTable, big, {0, 2}}});
  ASSERT_NE(saved, nullptr);
  ASSERT_TRUE(ExportModelToNpy(*saved, base_ + "/npy").ok());
  auto ids = ReadNpy(base_ + "/npy/user_ids.npy");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->descr, "<u8");
  EXPECT_EQ(Values<uint64_t>(*ids), (std::vector<uint64_t>{3, big}));
  auto items = ReadNpy(base_ + "/npy/item_embeddings.npy");
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(items->shape, (std::vector<uint64_t>{0, 2}));  // no item rows
}

TEST_F(ModelExportTest, AnUnwritableDirectoryIsAnErrorNamingIt) {
  auto saved = Load(testing_util::TestRunConfig("mf", 1, 0), {{kUserTable, 3, {0, 1}}});
  ASSERT_NE(saved, nullptr);
  std::ofstream(base_ + "/file") << "x";
  auto tables = ExportModelToNpy(*saved, base_ + "/file/npy");
  EXPECT_FALSE(tables.ok());
  EXPECT_THAT(tables.status().message(), HasSubstr(base_ + "/file"));
}

}  // namespace
}  // namespace psrec
