#include "server/checkpoint_store.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/config_proto.h"
#include "common/model_spec.h"
#include "gtest/gtest.h"
#include "server/shard_state.h"

namespace psrec {
namespace {

rpc::RunConfig AdamConfig() {
  rpc::RunConfig config;
  config.set_model("mf");
  config.set_optimizer("adam");
  config.set_lr(0.01f);
  config.set_seed(7);
  ModelOptions mo;
  mo.model = "mf";
  mo.dim = 4;
  auto tables = TablesForModel(mo);
  EXPECT_TRUE(tables.ok());
  for (const TableConfig& t : *tables) *config.add_tables() = ToProto(t);
  return config;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// Pushes `times` gradients of `g` into row 5 of table 0.
void Train(ShardState* s, int times, float g) {
  EmbeddingTable* t = s->table(0);
  std::vector<float> grad(t->dim(), g);
  const uint64_t key = 5;
  for (int i = 0; i < times; ++i) t->Push({&key, 1}, grad.data(), s->lr());
}

// The row with its optimizer state and step, as a checkpoint holds it.
std::vector<float> RowWithState(const ShardState& s, uint32_t* step) {
  std::vector<float> out;
  s.table(0)->ForEachWithState([&](uint64_t id, const float* row, uint32_t st) {
    if (id != 5) return;
    out.assign(row, row + s.table(0)->stride());
    *step = st;
  });
  return out;
}

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = (std::filesystem::path(::testing::TempDir()) / "checkpoint_store_test" / info->name())
               .string();
    std::filesystem::remove_all(dir_);
    config_ = AdamConfig();
    shard_ = std::move(*ShardState::Create(config_, 1));
    store_ = std::make_unique<CheckpointStore>(dir_, 1);
    // Round 1 after 3 updates, round 2 after 5.
    Train(shard_.get(), 3, 0.5f);
    ASSERT_TRUE(store_->WriteRound(1, *shard_).ok());
    round1_ = RowWithState(*shard_, &step1_);
    Train(shard_.get(), 2, -0.25f);
    ASSERT_TRUE(store_->WriteRound(2, *shard_).ok());
    round2_ = RowWithState(*shard_, &step2_);
  }

  absl::StatusOr<CheckpointRestore> RestoreFresh(uint64_t max_round, bool use_final,
                                                 std::unique_ptr<ShardState>* out) {
    *out = std::move(*ShardState::Create(config_, 1));
    return store_->Restore(max_round, use_final, out->get());
  }

  std::string dir_;
  rpc::RunConfig config_;
  std::unique_ptr<ShardState> shard_;
  std::unique_ptr<CheckpointStore> store_;
  std::vector<float> round1_, round2_;
  uint32_t step1_ = 0, step2_ = 0;
};

TEST_F(CheckpointStoreTest, RestoresTheNewestRoundWithOptimizerState) {
  std::unique_ptr<ShardState> restored;
  auto r = RestoreFresh(2, false, &restored);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->round, 2u);
  EXPECT_TRUE(r->skipped.empty());
  uint32_t step = 0;
  EXPECT_EQ(RowWithState(*restored, &step), round2_);  // parameters, Adam's m and v
  EXPECT_EQ(step, step2_);
  EXPECT_EQ(step2_, 5u);
  // Training on continues exactly as the original would.
  Train(restored.get(), 1, 0.125f);
  Train(shard_.get(), 1, 0.125f);
  uint32_t a = 0, b = 0;
  EXPECT_EQ(RowWithState(*restored, &a), RowWithState(*shard_, &b));
}

TEST_F(CheckpointStoreTest, IgnoresRoundsNewerThanTheLastCompleteOne) {
  std::unique_ptr<ShardState> restored;
  auto r = RestoreFresh(1, false, &restored);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->round, 1u);
  uint32_t step = 0;
  EXPECT_EQ(RowWithState(*restored, &step), round1_);
  EXPECT_EQ(step, 3u);
}

TEST_F(CheckpointStoreTest, CorruptedNewestRoundFallsBackToThePreviousOne) {
  std::string bytes = ReadBytes(store_->RoundPath(2));
  bytes[bytes.size() - 3] ^= 0x40;  // one flipped bit in the payload
  WriteBytes(store_->RoundPath(2), bytes);
  std::unique_ptr<ShardState> restored;
  auto r = RestoreFresh(2, false, &restored);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->round, 1u);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_NE(r->skipped[0].find("checksum"), std::string::npos) << r->skipped[0];
  uint32_t step = 0;
  EXPECT_EQ(RowWithState(*restored, &step), round1_);
}

TEST_F(CheckpointStoreTest, TornNewestRoundFallsBackToThePreviousOne) {
  const std::string bytes = ReadBytes(store_->RoundPath(2));
  WriteBytes(store_->RoundPath(2), bytes.substr(0, bytes.size() / 2));  // a torn write
  std::unique_ptr<ShardState> restored;
  auto r = RestoreFresh(2, false, &restored);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->round, 1u);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_NE(r->skipped[0].find("truncated"), std::string::npos) << r->skipped[0];
}

TEST_F(CheckpointStoreTest, NothingValidStartsFresh) {
  for (uint64_t round : {1, 2}) WriteBytes(store_->RoundPath(round), "PSRECCK1 torn");
  std::unique_ptr<ShardState> restored;
  auto r = RestoreFresh(2, false, &restored);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->round, 0u);
  EXPECT_EQ(restored->table(0)->rows(), 0u);
}

TEST_F(CheckpointStoreTest, FinalSnapshotIsUsedOnlyIfNoRoundCompletedSince) {
  Train(shard_.get(), 4, 1.0f);
  ASSERT_TRUE(store_->WriteFinal(2, *shard_).ok());
  uint32_t final_step = 0;
  const std::vector<float> final_row = RowWithState(*shard_, &final_step);
  std::unique_ptr<ShardState> restored;
  // Round 3 completed after the snapshot: the snapshot is stale.
  auto stale = RestoreFresh(3, true, &restored);
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_FALSE(stale->from_final);
  EXPECT_EQ(stale->round, 2u);
  // A resumed run restores rounds only.
  auto resumed = RestoreFresh(2, false, &restored);
  ASSERT_TRUE(resumed.ok());
  EXPECT_FALSE(resumed->from_final);
  // A restart after SIGTERM with no round since: every acknowledged update.
  auto r = RestoreFresh(2, true, &restored);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->from_final);
  uint32_t step = 0;
  EXPECT_EQ(RowWithState(*restored, &step), final_row);
  EXPECT_EQ(step, final_step);
  EXPECT_FALSE(std::filesystem::exists(store_->FinalPath()));  // used once
}

TEST_F(CheckpointStoreTest, AnotherOptimizersCheckpointIsAnError) {
  rpc::RunConfig sgd = config_;
  sgd.set_optimizer("sgd");
  auto other = std::move(*ShardState::Create(sgd, 1));
  auto r = store_->Restore(2, false, other.get());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("optimizer"), std::string::npos);
}

TEST_F(CheckpointStoreTest, PruneKeepsTheNewestCompleteRoundsAndAnyNewer) {
  for (uint64_t round = 3; round <= 6; ++round)
    ASSERT_TRUE(store_->WriteRound(round, *shard_).ok());
  store_->Prune(2, 5);  // round 6 is not complete yet
  EXPECT_EQ(store_->Rounds(), (std::vector<uint64_t>{4, 5, 6}));
}

TEST_F(CheckpointStoreTest, UnwritableDirectoryIsAnError) {
  CheckpointStore bad("/proc/psrec-no-such-dir", 0);
  auto r = bad.WriteRound(1, *shard_);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace psrec
