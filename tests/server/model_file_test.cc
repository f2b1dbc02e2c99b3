#include "server/model_file.h"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/config_proto.h"
#include "common/model_spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/embedding_table.h"
#include "server/optimizer.h"
#include "server/shard_state.h"

namespace psrec {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr size_t kHeaderBytes = 24;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

template <typename T>
T Load(const std::string& s, size_t at) {
  T v;
  std::memcpy(&v, s.data() + at, sizeof(T));
  return v;
}

TableConfig Config(uint32_t id, uint32_t dim) {
  TableConfig c;
  c.id = id;
  c.name = "t" + std::to_string(id);
  c.dim = dim;
  c.init_std = 0.1f;
  return c;
}

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) / "model_file_test" / info->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "shard.psm").string();
    OptimizerOptions o;
    o.name = "sgd";
    o.lr = 0.1f;
    sgd_ = std::move(*MakeOptimizer(o));
    user_ = std::make_unique<EmbeddingTable>(Config(kUserTable, 3), sgd_.get(), 1);
    item_ = std::make_unique<EmbeddingTable>(Config(kItemTable, 5), sgd_.get(), 1);
    // Hand-set rows: value = id + j / 10 (user), -id - j / 10 (item).
    for (uint64_t id : {0ULL, 7ULL, 1ULL << 50}) {
      float row[3];
      for (int j = 0; j < 3; ++j) row[j] = static_cast<float>(id % 1000) + j / 10.0f;
      user_->Insert(id, row);
    }
    for (uint64_t id : {3ULL, 4ULL}) {
      float row[5];
      for (int j = 0; j < 5; ++j) row[j] = -static_cast<float>(id) - j / 10.0f;
      item_->Insert(id, row);
    }
  }

  absl::Status Write() { return WriteModelShard(path_, {user_.get(), item_.get()}); }

  // Reads path_ into fresh tables with the given item dim.
  absl::Status ReadFresh(uint32_t item_dim = 5, uint64_t* rows = nullptr) {
    fresh_user_ = std::make_unique<EmbeddingTable>(Config(kUserTable, 3), sgd_.get(), 99);
    fresh_item_ = std::make_unique<EmbeddingTable>(Config(kItemTable, item_dim), sgd_.get(), 99);
    uint64_t ignored = 0;
    return ReadModelShard(path_, {fresh_user_.get(), fresh_item_.get()},
                          rows != nullptr ? rows : &ignored);
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Optimizer> sgd_;
  std::unique_ptr<EmbeddingTable> user_, item_, fresh_user_, fresh_item_;
};

std::vector<float> ReadOnlyPull(EmbeddingTable& t, uint64_t id, bool* found) {
  std::vector<float> out(t.dim());
  uint8_t f = 0;
  t.Pull({&id, 1}, out.data(), &f);
  *found = f != 0;
  return out;
}

TEST_F(ModelFileTest, RoundTripsValuesAndRowCounts) {
  ASSERT_TRUE(Write().ok());
  uint64_t rows = 0;
  ASSERT_TRUE(ReadFresh(5, &rows).ok());
  EXPECT_EQ(rows, 5u);
  EXPECT_EQ(fresh_user_->rows(), 3u);
  EXPECT_EQ(fresh_item_->rows(), 2u);
  for (uint64_t id : {0ULL, 7ULL, 1ULL << 50}) {
    bool found = false;
    std::vector<float> got = ReadOnlyPull(*fresh_user_, id, &found);
    EXPECT_TRUE(found) << id;
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(got[j], static_cast<float>(id % 1000) + j / 10.0f) << id;
    }
  }
  for (uint64_t id : {3ULL, 4ULL}) {
    bool found = false;
    std::vector<float> got = ReadOnlyPull(*fresh_item_, id, &found);
    EXPECT_TRUE(found) << id;
    for (int j = 0; j < 5; ++j) EXPECT_EQ(got[j], -static_cast<float>(id) - j / 10.0f);
  }
}

TEST_F(ModelFileTest, LayoutMatchesTheDocumentedFormat) {
  ASSERT_TRUE(Write().ok());
  const std::string file = ReadBytes(path_);
  // payload: u32 num_tables + per table (u32 id, u32 dim, u64 rows) + rows x
  // (u64 id, dim x f32) = 4 + (16 + 3 * (8 + 12)) + (16 + 2 * (8 + 20)) = 152.
  const uint64_t payload = 4 + (16 + 3 * 20) + (16 + 2 * 28);
  ASSERT_EQ(payload, 152u);
  ASSERT_EQ(file.size(), kHeaderBytes + payload);
  EXPECT_EQ(file.substr(0, 8), "PSRECMD1");
  EXPECT_EQ(Load<uint32_t>(file, 8), kModelFormatVersion);
  EXPECT_EQ(Load<uint64_t>(file, 16), payload);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(file.data() + kHeaderBytes), payload));
  EXPECT_EQ(Load<uint32_t>(file, 12), crc);
  EXPECT_EQ(Load<uint32_t>(file, 24), 2u);             // num_tables
  EXPECT_EQ(Load<uint32_t>(file, 28), kUserTable);     // first table id
  EXPECT_EQ(Load<uint32_t>(file, 32), 3u);             // its dim
  EXPECT_EQ(Load<uint64_t>(file, 36), 3u);             // its rows
}

TEST_F(ModelFileTest, EmptyTablesRoundTrip) {
  EmbeddingTable empty_user(Config(kUserTable, 3), sgd_.get(), 1);
  EmbeddingTable empty_item(Config(kItemTable, 5), sgd_.get(), 1);
  ASSERT_TRUE(WriteModelShard(path_, {&empty_user, &empty_item}).ok());
  uint64_t rows = 123;
  ASSERT_TRUE(ReadFresh(5, &rows).ok());
  EXPECT_EQ(rows, 0u);
  EXPECT_EQ(fresh_user_->rows(), 0u);
  EXPECT_EQ(fresh_item_->rows(), 0u);
}

TEST_F(ModelFileTest, CorruptPayloadByteIsDataLoss) {
  ASSERT_TRUE(Write().ok());
  std::string file = ReadBytes(path_);
  // A byte inside the float parameters of the last row.
  file[file.size() - 3] ^= 0x40;
  WriteBytes(path_, file);
  absl::Status s = ReadFresh();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("checksum"));
  EXPECT_THAT(s.message(), HasSubstr(path_));
}

TEST_F(ModelFileTest, CorruptChecksumFieldIsDataLoss) {
  ASSERT_TRUE(Write().ok());
  std::string file = ReadBytes(path_);
  file[12] ^= 0x01;
  WriteBytes(path_, file);
  absl::Status s = ReadFresh();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("checksum"));
}

TEST_F(ModelFileTest, TruncatedFileIsRejected) {
  ASSERT_TRUE(Write().ok());
  const std::string file = ReadBytes(path_);
  for (size_t keep : {file.size() - 1, file.size() - 20, kHeaderBytes + 4, kHeaderBytes,
                      size_t{10}, size_t{0}}) {
    WriteBytes(path_, file.substr(0, keep));
    absl::Status s = ReadFresh();
    EXPECT_THAT(s.code(), AnyOf(absl::StatusCode::kDataLoss,
                                absl::StatusCode::kInvalidArgument))
        << "kept " << keep << " bytes: " << s;
  }
}

TEST_F(ModelFileTest, WrongMagicIsInvalidArgument) {
  ASSERT_TRUE(Write().ok());
  std::string file = ReadBytes(path_);
  file[7] = '2';  // "PSRECMD2"
  WriteBytes(path_, file);
  absl::Status s = ReadFresh();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr(path_));
}

TEST_F(ModelFileTest, WrongVersionIsInvalidArgument) {
  ASSERT_TRUE(Write().ok());
  std::string file = ReadBytes(path_);
  file[8] = 2;
  WriteBytes(path_, file);
  absl::Status s = ReadFresh();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

TEST_F(ModelFileTest, DimMismatchIsInvalidArgument) {
  ASSERT_TRUE(Write().ok());
  absl::Status s = ReadFresh(/*item_dim=*/4);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr(path_));
}

TEST_F(ModelFileTest, UnknownTableIsInvalidArgument) {
  ASSERT_TRUE(Write().ok());
  EmbeddingTable only_user(Config(kUserTable, 3), sgd_.get(), 1);
  uint64_t rows = 0;
  absl::Status s = ReadModelShard(path_, {&only_user}, &rows);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

TEST_F(ModelFileTest, MissingFileIsAnError) {
  uint64_t rows = 0;
  absl::Status s = ReadModelShard((dir_ / "nope.psm").string(), {user_.get()}, &rows);
  EXPECT_FALSE(s.ok());
}

// ---- ShardState -----------------------------------------------------------

rpc::RunConfig MfConfig() {
  rpc::RunConfig config;
  config.set_model("mf");
  config.set_optimizer("sgd");
  config.set_lr(0.1f);
  config.set_seed(7);
  ModelOptions mo;
  mo.model = "mf";
  mo.dim = 4;
  auto tables = TablesForModel(mo);
  EXPECT_TRUE(tables.ok());
  for (const TableConfig& t : *tables) *config.add_tables() = ToProto(t);
  return config;
}

TEST_F(ModelFileTest, ShardStateSavesAndLoadsAllShards) {
  const rpc::RunConfig config = MfConfig();
  auto s0 = ShardState::Create(config, 0);
  auto s1 = ShardState::Create(config, 1);
  ASSERT_TRUE(s0.ok()) << s0.status();
  ASSERT_TRUE(s1.ok()) << s1.status();
  ASSERT_EQ((*s0)->num_tables(), 2u);
  EXPECT_EQ((*s0)->table(kUserTable)->dim(), 5u);
  EXPECT_EQ((*s0)->table(kDenseTable), nullptr);
  EXPECT_EQ((*s0)->lr(), 0.1f);

  // Shard 0: users 1, 2 and item 10 (trained once); shard 1: user 3.
  std::vector<float> buf(10);
  const std::vector<uint64_t> users0 = {1, 2};
  (*s0)->table(kUserTable)->Pull(users0, buf.data(), nullptr);
  const uint64_t item = 10;
  const std::vector<float> g(5, 1.0f);
  (*s0)->table(kItemTable)->Push({&item, 1}, g.data(), 0.1f);
  const float u3[5] = {0.5f, 1, 2, 3, 4};
  (*s1)->table(kUserTable)->Insert(3, u3);

  auto saved0 = (*s0)->Save((dir_ / "model").string());
  auto saved1 = (*s1)->Save((dir_ / "model").string());
  ASSERT_TRUE(saved0.ok()) << saved0.status();
  ASSERT_TRUE(saved1.ok()) << saved1.status();
  EXPECT_EQ(*saved0, 3u);
  EXPECT_EQ(*saved1, 1u);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "model" / "shard-0.psm"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "model" / "shard-1.psm"));

  auto loaded = ShardState::Create(config, 0);
  ASSERT_TRUE(loaded.ok());
  auto rows = (*loaded)->LoadAll((dir_ / "model").string(), 2);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(*rows, 4u);
  EXPECT_EQ((*loaded)->table(kUserTable)->rows(), 3u);
  EXPECT_EQ((*loaded)->table(kItemTable)->rows(), 1u);

  bool found = false;
  EXPECT_EQ(ReadOnlyPull(*(*loaded)->table(kUserTable), 3, &found),
            std::vector<float>(u3, u3 + 5));
  EXPECT_TRUE(found);
  // Item 10: init (bias 0, factors small) minus lr * 1.
  std::vector<float> init(5);
  (*s0)->table(kItemTable)->InitRow(10, init.data());
  EXPECT_EQ(init[0], 0.0f);
  std::vector<float> item_row = ReadOnlyPull(*(*loaded)->table(kItemTable), 10, &found);
  EXPECT_TRUE(found);
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(item_row[j], init[j] - 0.1f, 1e-6);
  EXPECT_EQ(ReadOnlyPull(*(*loaded)->table(kUserTable), 1, &found),
            std::vector<float>(buf.begin(), buf.begin() + 5));

  // Asking for a shard that was never written fails.
  auto missing = ShardState::Create(config, 0);
  EXPECT_FALSE((*missing)->LoadAll((dir_ / "model").string(), 3).ok());
}

TEST_F(ModelFileTest, ShardStateRejectsBadConfigs) {
  rpc::RunConfig bad_opt = MfConfig();
  bad_opt.set_optimizer("lbfgs");
  EXPECT_EQ(ShardState::Create(bad_opt, 0).status().code(),
            absl::StatusCode::kInvalidArgument);

  rpc::RunConfig zero_dim = MfConfig();
  zero_dim.mutable_tables(0)->set_dim(0);
  EXPECT_EQ(ShardState::Create(zero_dim, 0).status().code(),
            absl::StatusCode::kInvalidArgument);

  rpc::RunConfig big_id = MfConfig();
  big_id.mutable_tables(1)->set_id(64);
  EXPECT_EQ(ShardState::Create(big_id, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace psrec
