#include "worker/data_shards.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

std::string TempDir(const std::string& name) {
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/", name, "_", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

rpc::RunConfig PartConfig(const std::string& dir, uint32_t shards) {
  rpc::RunConfig c;
  c.set_task("rating");
  c.set_train_path(dir);
  c.set_data_shards(shards);
  c.set_part_file_shards(true);
  c.set_header(-1);
  c.set_user_col(-1);
  c.set_item_col(-1);
  c.set_rating_col(-1);
  c.set_timestamp_col(-1);
  return c;
}

// Recency weights are computed per shard (a shard holds whole users) from
// the rows' timestamps, streamed or bucketed alike; off, every row weighs 1.
TEST(DataShardsTest, RowsCarryTheirUsersRecencyWeights) {
  std::vector<Interaction> data;
  for (uint64_t u = 1; u <= 6; ++u) {
    for (int k = 0; k < 5; ++k) data.push_back({u, 100 + u * 10 + k, 1.0f, 1000 + 7 * k});
  }
  RecencyOptions recency;
  recency.weight = 4;
  recency.halflife = 2;
  auto shards = DataShards::FromInteractions(data, 3, recency);
  ASSERT_TRUE(shards.ok()) << shards.status();
  // Every user has the same 5 timestamps: item 100 + 10u + k has 4 - k later ones.
  std::vector<float> raw(5);
  double mean = 0;
  for (int k = 0; k < 5; ++k) {
    raw[k] = 1 + 4 * std::exp2(-(4 - k) / 2.0f);
    mean += raw[k] / 5;
  }
  size_t rows = 0;
  for (const ShardView& view : (*shards)->HeldShards()) {
    for (size_t i = 0; i < view.size(); ++i, ++rows) {
      const int k = static_cast<int>(view.item(i) % 10);
      EXPECT_NEAR(view.weight(i), raw[k] / mean, 1e-5) << "user " << view.user(i) << " k " << k;
    }
  }
  EXPECT_EQ(rows, data.size());

  const std::string dir = TempDir("recency");
  {
    std::ofstream f(dir + "/train.tsv");
    for (const Interaction& x : data) f << x.user << "\t" << x.item << "\t1\t" << x.timestamp << "\n";
  }
  rpc::RunConfig c;
  c.set_task("ranking");
  c.set_train_path(dir + "/train.tsv");
  c.set_data_shards(2);
  c.set_header(-1);
  c.set_user_col(-1);
  c.set_item_col(-1);
  c.set_rating_col(-1);
  c.set_timestamp_col(-1);
  c.set_recency_weight(4);
  c.set_recency_halflife(2);
  auto streamed = DataShards::FromTrainingFile(c);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  for (const ShardView& view : (*streamed)->HeldShards()) {
    for (size_t i = 0; i < view.size(); ++i) {
      EXPECT_NEAR(view.weight(i), raw[view.item(i) % 10] / mean, 1e-5);
    }
  }
  auto plain = DataShards::FromInteractions(data, 3);
  ASSERT_TRUE(plain.ok());
  for (const ShardView& view : (*plain)->HeldShards()) {
    for (size_t i = 0; i < view.size(); ++i) EXPECT_EQ(view.weight(i), 1.0f);
  }
}

TEST(DataShardsTest, PartFileShardsAreReadOnFirstUseOnly) {
  const std::string dir = TempDir("parts");
  std::ofstream(dir + "/part-00000.csv") << "userId,movieId,rating\n1,10,4\n2,20,3\n";
  std::ofstream(dir + "/part-00001.csv") << "3,30,5\n";
  std::ofstream(dir + "/_SUCCESS");
  auto shards = DataShards::FromPartFiles(PartConfig(dir, 2));
  ASSERT_TRUE(shards.ok()) << shards.status();
  EXPECT_TRUE((*shards)->lazy());
  EXPECT_EQ((*shards)->held(), 0u);

  bool first = false;
  auto s1 = (*shards)->Shard(1, &first);
  ASSERT_TRUE(s1.ok()) << s1.status();
  EXPECT_TRUE(first);
  ASSERT_EQ(s1->size(), 1u);
  EXPECT_EQ(s1->user(0), 3u);
  EXPECT_EQ(s1->item(0), 30u);
  EXPECT_EQ(s1->rating(0), 5.0f);
  EXPECT_EQ((*shards)->held(), 1u);

  // Changing the file now shows the shard is not read again.
  std::ofstream(dir + "/part-00001.csv") << "4,40,1\n5,50,2\n";
  s1 = (*shards)->Shard(1, &first);
  ASSERT_TRUE(s1.ok());
  EXPECT_FALSE(first);
  EXPECT_EQ(s1->size(), 1u);

  auto s0 = (*shards)->Shard(0, &first);
  ASSERT_TRUE(s0.ok()) << s0.status();
  EXPECT_TRUE(first);
  EXPECT_EQ(s0->size(), 2u);
  EXPECT_EQ((*shards)->held(), 3u);
  EXPECT_EQ((*shards)->Shard(2, &first).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(DataShardsTest, ABadPartNamesItsFile) {
  const std::string dir = TempDir("bad_part");
  std::ofstream(dir + "/part-00000.csv") << "1,10,4\n";
  std::ofstream(dir + "/part-00001.csv") << "1,10,4\nnot,a,number\n";
  auto shards = DataShards::FromPartFiles(PartConfig(dir, 2));
  ASSERT_TRUE(shards.ok());
  bool first = false;
  auto bad = (*shards)->Shard(1, &first);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("part-00001.csv:2"), std::string::npos)
      << bad.status();
}

TEST(DataShardsTest, ADirectoryThatChangedItsPartCountIsRefused) {
  const std::string dir = TempDir("changed");
  std::ofstream(dir + "/part-00000.csv") << "1,10,4\n";
  auto shards = DataShards::FromPartFiles(PartConfig(dir, 3));
  ASSERT_FALSE(shards.ok());
  EXPECT_EQ(shards.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(shards.status().message().find(dir), std::string::npos) << shards.status();
}

TEST(DataShardsTest, BucketsKeepEveryUserInOneShard) {
  std::vector<Interaction> data;
  for (uint64_t u = 0; u < 50; ++u) {
    for (uint64_t i = 0; i < 3; ++i) data.push_back({u, i, 1.0f, 0});
  }
  auto made = DataShards::FromInteractions(data, 4);
  ASSERT_TRUE(made.ok()) << made.status();
  auto& shards = *made;
  EXPECT_FALSE(shards->lazy());
  EXPECT_EQ(shards->held(), data.size());
  size_t total = 0;
  std::set<uint64_t> users_seen;
  for (uint32_t s = 0; s < 4; ++s) {
    bool first = true;
    auto shard = shards->Shard(s, &first);
    ASSERT_TRUE(shard.ok());
    EXPECT_FALSE(first);
    std::set<uint64_t> users;
    for (size_t i = 0; i < shard->size(); ++i) {
      users.insert(shard->user(i));
      EXPECT_EQ(DataShardOf(shard->user(i), 4), s);
    }
    for (uint64_t u : users) EXPECT_TRUE(users_seen.insert(u).second) << "user " << u;
    total += shard->size();
  }
  EXPECT_EQ(total, data.size());
}

TEST(DataShardsTest, OneStreamingPassBucketsAsTheInteractionsDo) {
  const std::string dir = TempDir("stream");
  std::vector<Interaction> data;
  std::ofstream out(dir + "/train.rating");
  for (uint64_t k = 0; k < 3000; ++k) {
    const Interaction x{k * 7919 % 101 + (uint64_t{1} << 40), k % 57, 0.5f * (k % 10), 0};
    data.push_back(x);
    out << x.user << "\t" << x.item << "\t" << x.rating << "\t0\n";
  }
  out.close();
  rpc::RunConfig config = PartConfig(dir + "/train.rating", 3);
  config.set_part_file_shards(false);
  auto streamed = DataShards::FromTrainingFile(config);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  auto bucketed = DataShards::FromInteractions(data, 3);
  ASSERT_TRUE(bucketed.ok());
  EXPECT_EQ((*streamed)->held(), data.size());
  for (uint32_t s = 0; s < 3; ++s) {
    bool first = false;
    auto a = (*streamed)->Shard(s, &first);
    auto b = (*bucketed)->Shard(s, &first);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), b->size());
    for (size_t i = 0; i < a->size(); ++i) {
      // In file order within a shard, ids back as they were read.
      ASSERT_EQ(a->user(i), b->user(i));
      ASSERT_EQ(a->item(i), b->item(i));
      ASSERT_EQ(a->rating(i), b->rating(i));
    }
  }
}

TEST(DataShardsTest, AStreamingErrorNamesFileAndLine) {
  const std::string dir = TempDir("stream_bad");
  std::ofstream(dir + "/train.rating") << "1\t2\t3\n4\t5\t6\n7\t8\tnan\n";
  rpc::RunConfig config = PartConfig(dir + "/train.rating", 2);
  config.set_part_file_shards(false);
  auto shards = DataShards::FromTrainingFile(config);
  ASSERT_FALSE(shards.ok());
  EXPECT_EQ(shards.status().message(),
            dir + "/train.rating:3: rating 'nan' is not a finite number");
}

TEST(DataShardsTest, AnEmptyPartIsAnEmptyShard) {
  const std::string dir = TempDir("empty_part");
  std::ofstream(dir + "/part-00000.csv") << "userId,movieId,rating\n1,10,4\n";
  std::ofstream(dir + "/part-00001.csv") << "userId,movieId,rating\n";
  auto shards = DataShards::FromPartFiles(PartConfig(dir, 2));
  ASSERT_TRUE(shards.ok());
  bool first = false;
  auto empty = (*shards)->Shard(1, &first);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(first);
  EXPECT_EQ(empty->size(), 0u);
}

TEST(ShardRowsTest, BlocksHoldRowsWithoutMovingThem) {
  ShardRows rows;
  const size_t n = ShardRows::kBlockRows * 2 + 5;
  rows.push_back({0, 0, 0.5f});
  const ShardRow* first = &rows[0];
  for (size_t i = 1; i < n; ++i) {
    rows.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(i * 3), 0.5f});
  }
  EXPECT_EQ(first, &rows[0]);  // growing never moved a row
  ASSERT_EQ(rows.size(), n);
  EXPECT_EQ(rows[n - 1].user, n - 1);
  EXPECT_EQ(rows[ShardRows::kBlockRows].item, ShardRows::kBlockRows * 3);
}

TEST(IdTableTest, DenseIndicesInOrderOfFirstAppearance) {
  IdTable ids;
  EXPECT_EQ(*ids.Intern(UINT64_MAX), 0u);
  EXPECT_EQ(*ids.Intern(5), 1u);
  EXPECT_EQ(*ids.Intern(UINT64_MAX), 0u);
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids.id(0), UINT64_MAX);
  ids.Seal();
  EXPECT_EQ(ids.id(1), 5u);
}

}  // namespace
}  // namespace psrec
