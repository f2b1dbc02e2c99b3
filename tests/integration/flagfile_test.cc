// --flagfile=FILE: flags read from a file, spelled as on the command line,
// overridable by later flags, and handed by `psrec train` to every role.
#include <fstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using testing_util::JsonNumber;
using testing_util::MakeTempDir;
using testing_util::ReadFile;
using testing_util::RunPsrec;

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(FlagfileTest, GenReadsFlagsWithCommentsAndDashes) {
  const std::string dir = MakeTempDir("flagfile_gen");
  Write(dir + "/run.flags",
        "# synthetic data\n--out=" + dir + "/data\n\n--gen-users=30\n   --gen_per_user=5   \n");
  auto r = RunPsrec({"gen", "--flagfile=" + dir + "/run.flags"}, 60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // One test interaction per user.
  EXPECT_TRUE(absl::StrContains(r.out, " and 30 test interactions")) << r.out;

  // A flag after the flagfile wins, as with Abseil's own --flagfile.
  r = RunPsrec({"gen", "--flagfile", dir + "/run.flags", "--gen_users=40"}, 60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, " and 40 test interactions")) << r.out;
}

TEST(FlagfileTest, NestedFlagfiles) {
  const std::string dir = MakeTempDir("flagfile_nested");
  Write(dir + "/inner.flags", "--gen_users=25\n");
  Write(dir + "/outer.flags", "--out=" + dir + "/data\n--flagfile=" + dir + "/inner.flags\n");
  auto r = RunPsrec({"gen", "--flagfile=" + dir + "/outer.flags"}, 60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, " and 25 test interactions")) << r.out;
}

TEST(FlagfileTest, TrainHandsTheFileToEveryRole) {
  const std::string dir = MakeTempDir("flagfile_train");
  Write(dir + "/run.flags",
        "--epochs=1\n--dim=8\n--batch-size=512\n--servers=1\n--workers=1\n"
        "--log-level=warn\n--metrics_json=" +
            dir + "/m.json\n--run_dir=" + dir + "\n");
  auto r = RunPsrec({"train", "--flagfile=" + dir + "/run.flags"}, 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = ReadFile(dir + "/m.json");
  EXPECT_EQ(JsonNumber(json, "epochs"), 1) << json;
  EXPECT_EQ(JsonNumber(json, "dim"), 8) << json;
  EXPECT_EQ(JsonNumber(json, "batch_size"), 512) << json;
  EXPECT_EQ(JsonNumber(json, "servers"), 1) << json;
}

TEST(FlagfileTest, ErrorsNameTheFileAndLine) {
  const std::string dir = MakeTempDir("flagfile_errors");
  auto r = RunPsrec({"gen", "--flagfile=" + dir + "/missing.flags"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, dir + "/missing.flags")) << r.err;

  Write(dir + "/bad.flags", "--gen_users=3\nusers 3\n");
  r = RunPsrec({"gen", "--flagfile=" + dir + "/bad.flags"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, dir + "/bad.flags:2")) << r.err;

  Write(dir + "/self.flags", "--flagfile=" + dir + "/self.flags\n");
  r = RunPsrec({"gen", "--flagfile=" + dir + "/self.flags"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "nested")) << r.err;

  Write(dir + "/unknown.flags", "--no_such_flag=1\n");
  r = RunPsrec({"gen", "--flagfile=" + dir + "/unknown.flags"}, 30);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.err, "no_such_flag")) << r.err;
}

}  // namespace
}  // namespace psrec
