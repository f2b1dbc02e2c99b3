// LoadRpcSecurity reads and checks the TLS files and the token, naming the
// flag and file in every error; RpcOptionsAsFlags hands the same settings on.
#include "common/rpc_options.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace psrec {
namespace {

class RpcOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A directory of this test's own: ctest runs the fixture's tests as
    // separate processes side by side, and one rewriting cert.pem while
    // another reads it failed BadFilesAreNamed once.
    dir_ = ::testing::TempDir() + "/rpc_options_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    cert_ = Write("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    key_ = Write("key.pem", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    ca_ = Write("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n");
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  RpcSecurityFiles Tls() const { return {cert_, key_, ca_, "", ""}; }
  static std::string Error(const RpcSecurityFiles& f) {
    auto s = LoadRpcSecurity(f);
    EXPECT_FALSE(s.ok());
    return s.ok() ? "" : std::string(s.status().message());
  }
  std::string dir_, cert_, key_, ca_;
};

TEST_F(RpcOptionsTest, NothingGivenIsPlaintext) {
  auto s = LoadRpcSecurity({});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->tls());
  EXPECT_FALSE(s->has_token());
}

TEST_F(RpcOptionsTest, ReadsTheFilesAndTrimsTheToken) {
  RpcSecurityFiles f = Tls();
  f.auth_token_file = Write("token", "\n  abc-123 \t\n");
  auto s = LoadRpcSecurity(f);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->tls());
  EXPECT_TRUE(absl::StrContains(s->key_pem, "PRIVATE KEY"));
  EXPECT_EQ(s->token, "abc-123");
}

TEST_F(RpcOptionsTest, AHalfGivenSetNamesWhatIsMissing) {
  EXPECT_EQ(
      Error({cert_, "", "", "", ""}),
      "TLS needs --tls_cert, --tls_key and --tls_ca together; --tls_key and --tls_ca missing");
  EXPECT_TRUE(absl::StrContains(Error({cert_, key_, "", "", ""}), "; --tls_ca missing"));
  EXPECT_TRUE(absl::StrContains(Error({"", "", "", "name", ""}), "--tls_server_name"));
}

TEST_F(RpcOptionsTest, BadFilesAreNamed) {
  RpcSecurityFiles f = Tls();
  f.tls_key = dir_ + "/absent.key";
  EXPECT_TRUE(absl::StartsWith(Error(f), "--tls_key=" + f.tls_key + ": cannot read it"))
      << Error(f);
  f = Tls();
  f.tls_ca = key_;  // a key where a certificate belongs
  EXPECT_EQ(Error(f), "--tls_ca=" + key_ + ": not a PEM file with a CERTIFICATE");
  f = Tls();
  f.tls_key = cert_;
  EXPECT_EQ(Error(f), "--tls_key=" + cert_ + ": not a PEM file with a PRIVATE KEY");
}

TEST_F(RpcOptionsTest, TokenNeedsTlsAndContent) {
  const std::string token = Write("token2", "t\n");
  EXPECT_TRUE(absl::StrContains(Error({"", "", "", "", token}), "needs TLS"));
  RpcSecurityFiles f = Tls();
  f.auth_token_file = Write("blank", " \n\t\n");
  EXPECT_EQ(Error(f),
            "--auth_token_file=" + f.auth_token_file + ": the file is empty (or only whitespace)");
  f.auth_token_file = Write("two_lines", "abc\ndef\n");
  EXPECT_TRUE(absl::StrContains(Error(f), "printable ASCII on one line"));
  f.auth_token_file = dir_ + "/absent_token";
  EXPECT_TRUE(absl::StrContains(Error(f), "cannot read it"));
}

TEST_F(RpcOptionsTest, LimitsAreChecked) {
  EXPECT_TRUE(ValidateRpcLimits(RpcLimits()).ok());
  RpcLimits l;
  l.max_message_bytes = 100;
  EXPECT_TRUE(absl::StrContains(ValidateRpcLimits(l).message(), "--max_message_bytes"));
  l = RpcLimits();
  l.max_keys_per_request = 0;
  EXPECT_TRUE(absl::StrContains(ValidateRpcLimits(l).message(), "--max_keys_per_request"));
  l = RpcLimits();
  l.max_concurrent_requests = -1;
  EXPECT_TRUE(absl::StrContains(ValidateRpcLimits(l).message(), "--max_concurrent_requests"));
}

TEST_F(RpcOptionsTest, FlagsForChildrenCarryEverything) {
  RpcOptions o;
  o.security.files = {cert_, key_, ca_, "psrec.internal", "/run/token"};
  o.limits.max_keys_per_request = 100;
  const std::vector<std::string> flags = RpcOptionsAsFlags(o);
  for (const std::string& want :
       {"--tls_cert=" + cert_, "--tls_key=" + key_, "--tls_ca=" + ca_,
        std::string("--tls_server_name=psrec.internal"),
        std::string("--auth_token_file=/run/token"), std::string("--max_keys_per_request=100"),
        std::string("--max_message_bytes=268435456"),
        std::string("--max_concurrent_requests=1024")}) {
    EXPECT_NE(std::find(flags.begin(), flags.end(), want), flags.end()) << want;
  }
  EXPECT_EQ(RpcOptionsAsFlags(RpcOptions()).size(), 3u);  // the limits only
}

}  // namespace
}  // namespace psrec
