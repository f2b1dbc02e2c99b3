#include "worker/data_shards.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

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
  EXPECT_EQ((*s1)[0].user, 3u);
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
  auto shards = DataShards::FromInteractions(data, 4);
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
    for (const Interaction& x : *shard) {
      users.insert(x.user);
      EXPECT_EQ(DataShardOf(x.user, 4), s);
    }
    for (uint64_t u : users) EXPECT_TRUE(users_seen.insert(u).second) << "user " << u;
    total += shard->size();
  }
  EXPECT_EQ(total, data.size());
}

}  // namespace
}  // namespace psrec
