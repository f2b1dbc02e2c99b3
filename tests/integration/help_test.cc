// `psrec ROLE --help` lists the role's own flags with defaults; a misspelt
// flag or a value that does not parse says what would have been valid.
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using testing_util::RunPsrec;

TEST(HelpTest, OverviewListsTheRoles) {
  auto r = RunPsrec({"--help"}, 30);
  EXPECT_EQ(r.exit_code, 0);
  for (const char* role : {"train", "coordinator", "server", "worker", "status", "health"}) {
    EXPECT_TRUE(absl::StrContains(r.out, std::string("\n  ") + role + " ")) << role << r.out;
  }
}

TEST(HelpTest, TrainHelpListsItsFlagsWithDefaults) {
  auto r = RunPsrec({"train", "--help"}, 30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "usage: psrec train")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  --servers=2 ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  --model=gmf ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  --train=\"\" ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  --progress=auto ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "Passes over the training data")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "--gen_users")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "No flags matched")) << r.out;
}

// Every role that dials or serves gRPC takes the TLS and token flags.
TEST(HelpTest, GrpcRolesListTheSecurityFlags) {
  for (const char* role : {"train", "coordinator", "server", "worker", "status", "health"}) {
    auto r = RunPsrec({role, "--help"}, 30);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const char* flag : {"  --tls_cert=\"\" ", "  --tls_key=\"\" ", "  --tls_ca=\"\" ",
                             "  --auth_token_file=\"\" "}) {
      EXPECT_TRUE(absl::StrContains(r.out, flag)) << role << " lacks " << flag << r.out;
    }
  }
  auto r = RunPsrec({"server", "--help"}, 30);
  EXPECT_TRUE(absl::StrContains(r.out, "  --max_keys_per_request=4194304 ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  --max_concurrent_requests=1024 ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  --max_message_bytes=268435456 ")) << r.out;
  r = RunPsrec({"gen", "--help"}, 30);
  EXPECT_FALSE(absl::StrContains(r.out, "--tls_cert")) << r.out;
}

TEST(HelpTest, EachRoleShowsOnlyWhatItReads) {
  auto r = RunPsrec({"server", "-h"}, 30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "  --coordinator=\"\" ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  --shard_index=-1 ")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "--epochs")) << r.out;

  r = RunPsrec({"gen", "--help"}, 30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "  --gen_users=2000 ")) << r.out;

  r = RunPsrec({"status", "--help"}, 30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "  --json=false ")) << r.out;

  // The hand-written help of recommend keeps its prose and gains the table.
  r = RunPsrec({"recommend", "--help"}, 30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "Candidates are every item")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  --k=10 ")) << r.out;
}

TEST(HelpTest, UnknownFlagSuggestsTheNearestOnes) {
  auto r = RunPsrec({"train", "--epoch=3"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown flag --epoch")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "did you mean --epochs")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "psrec train --help")) << r.err;

  // Dashes are normalised before the check.
  r = RunPsrec({"train", "--batch-sise=3"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "did you mean --batch_size")) << r.err;
}

TEST(HelpTest, BadValuesSayWhatTheFlagTakes) {
  auto r = RunPsrec({"train", "--epochs=many"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err,
                                "--epochs=many: not valid; it takes a whole number, 0 or "
                                "more (default 0)"))
      << r.err;

  r = RunPsrec({"train", "--lr=fast"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "it takes a number")) << r.err;

  r = RunPsrec({"train", "--model=svd"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "gmf")) << r.err;

  r = RunPsrec({"train", "--progress=fancy"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "valid: auto, line, plain, off")) << r.err;
}

TEST(HelpTest, BooleanFlagsAloneAndNegatedStillWork) {
  const std::string dir = testing_util::MakeTempDir("help_bool");
  auto r = RunPsrec({"gen", "--out=" + dir, "--noimplicit", "--gen_users=10"}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace psrec
