// `psrec recommend` end to end on a model trained by the real binary.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"
#include "tests/integration/trained_model.h"

namespace psrec {
namespace {

using ::testing::HasSubstr;
using testing_util::ReadFile;
using testing_util::RunPsrec;
using testing_util::TrainedModel;
using testing_util::TrainSmallModel;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines;
}

// A u.item-style catalogue (pipe-separated, latin-1) for items 1..100.
std::string WriteItemFile(const std::string& dir) {
  const std::string path = dir + "/u.item";
  std::ofstream out(path, std::ios::binary);
  for (int id = 1; id <= 100; ++id) {
    out << id << "|Film \xE9" << id << " (1995)|01-Jan-1995||http://example/" << id << "|0|0|1\n";
  }
  return path;
}

std::string Title(uint64_t id) { return absl::StrCat("Film \xC3\xA9", id, " (1995)"); }

TEST(RecommendTest, PrintsTheTopKBestFirstWithoutTrainingItemsWithTitles) {
  const TrainedModel m = TrainSmallModel("recommend_top_k", "gmf");
  const uint64_t user = m.items_of.begin()->first;
  const std::string items = WriteItemFile(m.dir);
  auto r = RunPsrec({"recommend", "--model_dir=" + m.model, absl::StrCat("--user=", user), "--k=7",
                     "--exclude=" + m.train, "--items=" + items});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 7u) << r.out;
  double previous = 1e30;
  std::set<uint64_t> seen;
  for (const std::string& line : lines) {
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 3u) << line;
    uint64_t item;
    double score;
    ASSERT_TRUE(absl::SimpleAtoi(f[0], &item)) << line;
    ASSERT_TRUE(absl::SimpleAtod(f[1], &score)) << line;
    EXPECT_LE(score, previous) << "scores must not increase: " << r.out;
    previous = score;
    EXPECT_EQ(m.items_of.at(user).count(item), 0u) << "item " << item << " is in training";
    EXPECT_EQ(m.items.count(item), 1u) << "item " << item << " is not in the model";
    EXPECT_TRUE(seen.insert(item).second) << "item " << item << " twice";
    EXPECT_EQ(f[2], Title(item));
  }

  // Without --exclude the user's training items compete too; without
  // --items there is no title column.
  auto all = RunPsrec({"recommend", "--model_dir=" + m.model, absl::StrCat("--user=", user),
                       absl::StrCat("--k=", m.items.size() + 5)});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const std::vector<std::string> all_lines = Lines(all.out);
  EXPECT_EQ(all_lines.size(), m.items.size()) << "every item in the model, no more";
  EXPECT_EQ(std::vector<std::string>(absl::StrSplit(all_lines[0], '\t')).size(), 2u);
}

TEST(RecommendTest, UnknownUserIsAnErrorNamingIt) {
  const TrainedModel m = TrainSmallModel("recommend_unknown", "gmf");
  auto r = RunPsrec({"recommend", "--model_dir=" + m.model, "--user=99999"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("user 99999 is not in the model: it never appeared in training"));
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(RecommendTest, UsersFileWritesTsvAndReportsUnknownUsers) {
  const TrainedModel m = TrainSmallModel("recommend_users", "gmf");
  std::vector<uint64_t> users;
  for (const auto& [user, items] : m.items_of) {
    if (users.size() < 3) users.push_back(user);
  }
  const std::string users_file = m.dir + "/users.txt";
  std::ofstream(users_file) << users[0] << "\n" << users[1] << "\n\n99999\n" << users[2] << "\n";
  auto r = RunPsrec({"recommend", "--model_dir=" + m.model, "--users=" + users_file, "--k=4",
                     "--exclude=" + m.train, "--items=" + WriteItemFile(m.dir)});
  EXPECT_EQ(r.exit_code, 1) << "an unknown user makes the run fail after the others";
  EXPECT_THAT(r.err, HasSubstr("user 99999 is not in the model"));
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1 + 3 * 4u) << r.out;
  EXPECT_EQ(lines[0], "user\trank\titem\tscore\ttitle");
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = absl::StrSplit(lines[i], '\t');
    ASSERT_EQ(f.size(), 5u) << lines[i];
    EXPECT_EQ(f[0], absl::StrCat(users[(i - 1) / 4]));
    EXPECT_EQ(f[1], absl::StrCat((i - 1) % 4 + 1));
    uint64_t item = 0;
    ASSERT_TRUE(absl::SimpleAtoi(f[2], &item));
    EXPECT_EQ(m.items_of.at(users[(i - 1) / 4]).count(item), 0u) << lines[i];
    EXPECT_EQ(f[4], Title(item));
  }

  // The same users without the unknown one: the same rows, exit 0.
  std::ofstream(users_file) << users[0] << "\n" << users[1] << "\n" << users[2] << "\n";
  auto ok = RunPsrec({"recommend", "--model_dir=" + m.model, "--users=" + users_file, "--k=4",
                      "--exclude=" + m.train, "--items=" + WriteItemFile(m.dir)});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, r.out);
}

TEST(RecommendTest, RatingModelRanksByPredictedRating) {
  const TrainedModel m = TrainSmallModel("recommend_mf", "mf");
  const uint64_t user = m.items_of.rbegin()->first;
  auto r = RunPsrec({"recommend", "--model_dir=" + m.model, absl::StrCat("--user=", user), "--k=5",
                     "--exclude=" + m.train});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  double previous = 1e30;
  for (const std::string& line : lines) {
    double score = 0;
    ASSERT_TRUE(absl::SimpleAtod(std::vector<std::string>(absl::StrSplit(line, '\t'))[1], &score));
    EXPECT_LE(score, previous);
    // Ratings of the synthetic set are in [1, 5]; two epochs stay near them.
    EXPECT_GT(score, 0.0) << line;
    EXPECT_LT(score, 7.0) << line;
    previous = score;
  }
}

TEST(RecommendTest, BadModelDirectoriesAndUsageErrorsSaySo) {
  const TrainedModel m = TrainSmallModel("recommend_bad", "gmf");
  auto help = RunPsrec({"recommend", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("usage: psrec recommend --model_dir=DIR"));
  auto neither = RunPsrec({"recommend", "--model_dir=" + m.model});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_THAT(neither.err, HasSubstr("--user=ID or --users=FILE"));
  auto k0 = RunPsrec({"recommend", "--model_dir=" + m.model, "--user=1", "--k=0"});
  EXPECT_EQ(k0.exit_code, 2);
  auto bad_user = RunPsrec({"recommend", "--model_dir=" + m.model, "--user=abc"});
  EXPECT_EQ(bad_user.exit_code, 2);
  EXPECT_THAT(bad_user.err, HasSubstr("--user=abc"));
  auto no_model = RunPsrec({"recommend", "--model_dir=" + m.dir + "/nope", "--user=1"});
  EXPECT_EQ(no_model.exit_code, 1);
  EXPECT_THAT(no_model.err, HasSubstr(m.dir + "/nope/model.json"));

  // A shard file of format version 1: refused by name.
  const std::string shard = m.model + "/shard-0.psm";
  const std::string good = ReadFile(shard);
  ASSERT_GT(good.size(), 40u);
  std::string v1 = good;
  v1[8] = 1;
  v1[9] = v1[10] = v1[11] = 0;
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << v1;
  auto old = RunPsrec({"recommend", "--model_dir=" + m.model, "--user=1"});
  EXPECT_EQ(old.exit_code, 1);
  EXPECT_THAT(old.err, HasSubstr(shard + ": model format version 1, this psrec reads version 2; "
                                         "retrain or use the psrec that wrote it"));
  // Truncated and damaged files: named too.
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << good.substr(0, good.size() - 9);
  auto cut = RunPsrec({"recommend", "--model_dir=" + m.model, "--user=1"});
  EXPECT_EQ(cut.exit_code, 1);
  EXPECT_THAT(cut.err, HasSubstr(shard + ": truncated"));
  std::string flipped = good;
  flipped[good.size() - 5] ^= 0x10;
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << flipped;
  auto damaged = RunPsrec({"recommend", "--model_dir=" + m.model, "--user=1"});
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_THAT(damaged.err, HasSubstr(shard + ": checksum mismatch"));
  // A missing shard.
  std::remove((m.model + "/shard-1.psm").c_str());
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << good;
  auto missing = RunPsrec({"recommend", "--model_dir=" + m.model, "--user=1"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr(m.model + "/shard-1.psm: missing"));
}

}  // namespace
}  // namespace psrec
