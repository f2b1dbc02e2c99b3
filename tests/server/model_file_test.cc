#include "server/model_file.h"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/stubs/logging.h"
#include "common/config_proto.h"
#include "common/model_spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/model_file.pb.h"
#include "server/embedding_table.h"
#include "server/optimizer.h"
#include "server/shard_state.h"

namespace psrec {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr size_t kFixedBytes = 32;

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

template <typename T>
void Store(std::string* s, size_t at, T v) {
  std::memcpy(s->data() + at, &v, sizeof(T));
}

uint32_t Crc(const std::string& file, size_t from) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(file.data() + from), file.size() - from));
}

// Makes a modified file pass the checksum again, to reach the parser behind it.
void FixCrc(std::string* file) {
  if (file->size() >= 16) Store<uint32_t>(file, 12, Crc(*file, 16));
}

TableConfig Config(uint32_t id, uint32_t dim) {
  TableConfig c;
  c.id = id;
  c.name = "t" + std::to_string(id);
  c.dim = dim;
  c.init_std = 0.1f;
  return c;
}

rpc::RunConfig RunConfigWithItems() {
  rpc::RunConfig config;
  config.set_model("gmf");
  config.set_task("ranking");
  config.set_dim(3);
  config.set_lr(0.25f);
  config.set_seed(99);
  config.set_global_mean(3.5);
  config.set_item_ids(std::string(16, '\x01'));  // training-only: not saved
  return config;
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

  absl::Status Write() {
    return WriteModelShard(path_, RunConfigWithItems(), 3, {user_.get(), item_.get()});
  }

  // Reads path_ into fresh tables with the given item dim.
  absl::StatusOr<ModelShardInfo> ReadFresh(uint32_t item_dim = 5) {
    fresh_user_ = std::make_unique<EmbeddingTable>(Config(kUserTable, 3), sgd_.get(), 99);
    fresh_item_ = std::make_unique<EmbeddingTable>(Config(kItemTable, item_dim), sgd_.get(), 99);
    return ReadModelShard(path_, {fresh_user_.get(), fresh_item_.get()});
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

TEST_F(ModelFileTest, RoundTripsValuesRowCountsAndTheHeader) {
  ASSERT_TRUE(Write().ok());
  auto info = ReadFresh(5);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows, 5u);
  EXPECT_EQ(info->shard_index, 3u);
  EXPECT_EQ(info->config.model(), "gmf");
  EXPECT_EQ(info->config.lr(), 0.25f);
  EXPECT_EQ(info->config.global_mean(), 3.5);
  EXPECT_TRUE(info->config.item_ids().empty());
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
  ASSERT_GE(file.size(), kFixedBytes);
  EXPECT_EQ(file.substr(0, 8), "PSRECMD1");
  EXPECT_EQ(Load<uint32_t>(file, 8), kModelFormatVersion);
  EXPECT_EQ(kModelFormatVersion, 2u);
  EXPECT_EQ(Load<uint32_t>(file, 12), Crc(file, 16));
  const uint32_t header_bytes = Load<uint32_t>(file, 16);
  EXPECT_EQ(Load<uint32_t>(file, 20), 3u);  // shard index
  const uint64_t payload = Load<uint64_t>(file, 24);
  // rows x (u64 id, dim x f32): 3 x (8 + 12) + 2 x (8 + 20) = 116.
  EXPECT_EQ(payload, 116u);
  ASSERT_EQ(file.size(), kFixedBytes + header_bytes + payload);

  rpc::ModelFileHeader header;
  ASSERT_TRUE(header.ParseFromArray(file.data() + kFixedBytes, static_cast<int>(header_bytes)));
  EXPECT_EQ(header.config().model(), "gmf");
  EXPECT_EQ(header.config().seed(), 99u);
  EXPECT_TRUE(header.config().item_ids().empty());
  ASSERT_EQ(header.tables_size(), 2);
  EXPECT_EQ(header.tables(0).id(), kUserTable);
  EXPECT_EQ(header.tables(0).name(), "t0");
  EXPECT_EQ(header.tables(0).dim(), 3u);
  EXPECT_FALSE(header.tables(0).dense());
  EXPECT_EQ(header.tables(0).rows(), 3u);
  EXPECT_EQ(header.tables(1).id(), kItemTable);
  EXPECT_EQ(header.tables(1).rows(), 2u);

  // The payload's first row: some user id, then its 3 floats.
  const size_t row_at = kFixedBytes + header_bytes;
  const uint64_t first_id = Load<uint64_t>(file, row_at);
  EXPECT_TRUE(first_id == 0 || first_id == 7 || first_id == (1ULL << 50)) << first_id;
  EXPECT_EQ(Load<float>(file, row_at + 8), static_cast<float>(first_id % 1000));
}

TEST_F(ModelFileTest, EmptyTablesRoundTrip) {
  EmbeddingTable empty_user(Config(kUserTable, 3), sgd_.get(), 1);
  EmbeddingTable empty_item(Config(kItemTable, 5), sgd_.get(), 1);
  ASSERT_TRUE(WriteModelShard(path_, RunConfigWithItems(), 0, {&empty_user, &empty_item}).ok());
  auto info = ReadFresh(5);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows, 0u);
  EXPECT_EQ(fresh_user_->rows(), 0u);
  EXPECT_EQ(fresh_item_->rows(), 0u);
}

TEST_F(ModelFileTest, CorruptPayloadByteIsAChecksumMismatchNamingTheFile) {
  ASSERT_TRUE(Write().ok());
  std::string file = ReadBytes(path_);
  // A byte inside the float parameters of the last row.
  file[file.size() - 3] ^= 0x40;
  WriteBytes(path_, file);
  absl::Status s = ReadFresh().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("checksum mismatch"));
  EXPECT_THAT(s.message(), HasSubstr(path_));
  EXPECT_EQ(fresh_user_->rows(), 0u) << "nothing is inserted from a damaged file";
}

TEST_F(ModelFileTest, CorruptHeaderByteIsAChecksumMismatch) {
  ASSERT_TRUE(Write().ok());
  std::string file = ReadBytes(path_);
  file[kFixedBytes + 2] ^= 0x01;
  WriteBytes(path_, file);
  absl::Status s = ReadFresh().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("checksum mismatch"));
}

TEST_F(ModelFileTest, CorruptChecksumFieldIsAChecksumMismatch) {
  ASSERT_TRUE(Write().ok());
  std::string file = ReadBytes(path_);
  file[12] ^= 0x01;
  WriteBytes(path_, file);
  absl::Status s = ReadFresh().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("checksum"));
}

TEST_F(ModelFileTest, TruncatedFileSaysTruncatedAndNamesTheFile) {
  ASSERT_TRUE(Write().ok());
  const std::string file = ReadBytes(path_);
  for (size_t keep : {file.size() - 1, file.size() - 20, kFixedBytes + 4, kFixedBytes,
                      size_t{20}, size_t{8}}) {
    WriteBytes(path_, file.substr(0, keep));
    absl::Status s = ReadFresh().status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "kept " << keep << " bytes: " << s;
    EXPECT_THAT(s.message(), HasSubstr("truncated")) << keep;
    EXPECT_THAT(s.message(), HasSubstr(path_)) << keep;
  }
  for (size_t keep : {size_t{7}, size_t{0}}) {
    WriteBytes(path_, file.substr(0, keep));
    absl::Status s = ReadFresh().status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "kept " << keep << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr("not a psrec model shard"));
  }
}

TEST_F(ModelFileTest, WrongMagicIsNotAModelShard) {
  ASSERT_TRUE(Write().ok());
  std::string file = ReadBytes(path_);
  file[7] = '2';  // "PSRECMD2"
  WriteBytes(path_, file);
  absl::Status s = ReadFresh().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr(path_));
  EXPECT_THAT(s.message(), HasSubstr("not a psrec model shard"));
}

TEST_F(ModelFileTest, AnotherVersionIsRefusedByName) {
  ASSERT_TRUE(Write().ok());
  std::string file = ReadBytes(path_);
  Store<uint32_t>(&file, 8, 3);
  WriteBytes(path_, file);
  absl::Status s = ReadFresh().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), path_ + ": model format version 3, this psrec reads version 2; retrain "
                                 "or use the psrec that wrote it");
}

TEST_F(ModelFileTest, AVersion1FileIsRefusedByName) {
  // Version 1's layout: magic | u32 1 | u32 crc | u64 payload_bytes | payload.
  std::string payload;
  const uint32_t num_tables = 0;
  payload.append(reinterpret_cast<const char*>(&num_tables), 4);
  std::string file = "PSRECMD1";
  file.append(24 - 8, '\0');
  Store<uint32_t>(&file, 8, 1);
  Store<uint32_t>(&file, 12, static_cast<uint32_t>(crc32(
                                 0, reinterpret_cast<const Bytef*>(payload.data()), 4)));
  Store<uint64_t>(&file, 16, payload.size());
  WriteBytes(path_, file + payload);
  absl::Status s = ReadFresh().status();
  EXPECT_EQ(s.message(), path_ + ": model format version 1, this psrec reads version 2; retrain "
                                 "or use the psrec that wrote it");
}

TEST_F(ModelFileTest, DimMismatchNamesBothLayouts) {
  ASSERT_TRUE(Write().ok());
  absl::Status s = ReadFresh(/*item_dim=*/4).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr(path_));
  EXPECT_THAT(s.message(), HasSubstr("'t1' of dim 5 (sparse)"));
  EXPECT_THAT(s.message(), HasSubstr("model.json) says 't1' of dim 4 (sparse)"));
}

TEST_F(ModelFileTest, ATableTheModelLacksIsRefused) {
  ASSERT_TRUE(Write().ok());
  EmbeddingTable only_user(Config(kUserTable, 3), sgd_.get(), 1);
  absl::Status s = ReadModelShard(path_, {&only_user}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr("does not have"));
}

TEST_F(ModelFileTest, ATableTheFileLacksIsRefused) {
  ASSERT_TRUE(WriteModelShard(path_, RunConfigWithItems(), 0, {user_.get()}).ok());
  absl::Status s = ReadFresh().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr("has no table 1 't1'"));
}

TEST_F(ModelFileTest, MissingFileIsAnErrorNamingIt) {
  const std::string missing = (dir_ / "nope.psm").string();
  absl::Status s = ReadModelShard(missing, {user_.get()}).status();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(missing));
}

// Random truncations and byte changes: every one is an error naming the file
// (every byte is covered by the magic, the version, the sizes or the crc).
TEST_F(ModelFileTest, FuzzedFilesAreErrorsNeverCrashes) {
  ASSERT_TRUE(Write().ok());
  const std::string good = ReadBytes(path_);
  std::mt19937_64 rng(2024);
  for (int trial = 0; trial < 300; ++trial) {
    std::string file = good;
    if (trial % 3 == 0) {
      file.resize(rng() % good.size());
    } else {
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        file[rng() % file.size()] ^= static_cast<char>(1 + rng() % 255);
      }
    }
    if (file == good) continue;
    WriteBytes(path_, file);
    auto info = ReadFresh();
    EXPECT_FALSE(info.ok()) << "trial " << trial;
    EXPECT_THAT(info.status().message(), HasSubstr(path_)) << "trial " << trial;
  }
}

// Damage behind a valid checksum reaches the header parser and the layout
// checks: those must refuse or load, never crash or over-read.
TEST_F(ModelFileTest, FuzzedFilesWithAValidChecksumNeverCrash) {
  ASSERT_TRUE(Write().ok());
  const std::string good = ReadBytes(path_);
  std::mt19937_64 rng(7);
  int refused = 0;
  // Damaged strings make protobuf log an error each; the statuses are checked.
  google::protobuf::LogHandler* log_handler = google::protobuf::SetLogHandler(nullptr);
  for (int trial = 0; trial < 600; ++trial) {
    std::string file = good;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      // Behind the crc field: sizes, shard index, header, payload.
      file[16 + rng() % (file.size() - 16)] ^= static_cast<char>(1 << (rng() % 8));
    }
    if (trial % 5 == 0) file.resize(16 + rng() % (file.size() - 16));
    FixCrc(&file);
    WriteBytes(path_, file);
    auto info = ReadFresh();
    if (!info.ok()) {
      ++refused;
      EXPECT_THAT(info.status().message(), HasSubstr(path_)) << "trial " << trial;
    }
  }
  google::protobuf::SetLogHandler(log_handler);
  EXPECT_GT(refused, 0);
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

  // Asking for a shard that was never written fails, naming it.
  auto missing = ShardState::Create(config, 0);
  absl::Status s = (*missing)->LoadAll((dir_ / "model").string(), 3).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(s.message(), HasSubstr((dir_ / "model" / "shard-2.psm").string() + ": missing"));
}

TEST_F(ModelFileTest, ShardStateRefusesShardsOfAnotherModelIndexOrRun) {
  const rpc::RunConfig config = MfConfig();
  const std::string model = (dir_ / "model").string();
  auto save = [&](const rpc::RunConfig& c, uint32_t index) {
    auto state = ShardState::Create(c, index);
    ASSERT_TRUE(state.ok()) << state.status();
    ASSERT_TRUE((*state)->Save(model).ok());
  };
  auto load = [&](uint32_t shards) {
    auto state = ShardState::Create(config, 0);
    EXPECT_TRUE(state.ok());
    return (*state)->LoadAll(model, shards).status();
  };
  save(config, 0);
  save(config, 1);
  ASSERT_TRUE(load(2).ok());

  // Same layout, other model type.
  rpc::RunConfig other_model = config;
  other_model.set_model("mf_like");
  save(other_model, 1);
  absl::Status s = load(2);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr("shard-1.psm: holds a 'mf_like' model, model.json "
                                     "describes a 'mf' model"));

  // Another run of the same model (another seed).
  rpc::RunConfig other_run = config;
  other_run.set_seed(8);
  save(other_run, 1);
  s = load(2);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr("shard-1.psm: written by another training run"));

  // A shard file renamed to another index.
  std::filesystem::copy_file(dir_ / "model" / "shard-0.psm", dir_ / "model" / "shard-1.psm",
                             std::filesystem::copy_options::overwrite_existing);
  s = load(2);
  EXPECT_THAT(s.message(), HasSubstr("shard-1.psm: is shard 0 of its model, not shard 1"));
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
