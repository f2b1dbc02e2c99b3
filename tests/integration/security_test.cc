// TLS with client certificates and the shared token, between real psrec
// processes on loopback, with throw-away certificates made by `openssl`: a
// run with both trains, and a stranger (plaintext, no client certificate, a
// certificate from another CA, no token, a wrong token) is refused with the
// status code gRPC gives such a call, counted, and logged without the token.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/child_process.h"
#include "common/rpc_options.h"
#include "common/rpc_util.h"
#include "gtest/gtest.h"
#include "proto/psrec.grpc.pb.h"
#include "tests/integration/run_util.h"

namespace psrec {
namespace {

using testing_util::RunPsrec;

constexpr char kToken[] = "s3cret-cluster-token";

// Certificates of one test run, made once.
struct Certs {
  std::string dir;
  std::string ca, node_cert, node_key;  // the cluster's CA; every role's cert (127.0.0.1)
  std::string client_cert, client_key;  // an operator's client certificate, same CA
  std::string stranger_cert, stranger_key, stranger_ca;  // another CA and a cert it signed
  std::string token, wrong_token;
};

bool Sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// A CA and a certificate signed by it with the given subjectAltName (EC keys:
// quick to make).
bool MakeCa(const std::string& dir, const std::string& name) {
  return Sh(absl::StrCat("cd '", dir, "' && openssl req -x509 -newkey ec -pkeyopt ",
                         "ec_paramgen_curve:prime256v1 -nodes -keyout ", name, ".key -out ", name,
                         ".pem -days 1 -subj /CN=", name));
}
bool MakeCert(const std::string& dir, const std::string& ca, const std::string& name,
              const std::string& san) {
  return Sh(
      absl::StrCat("cd '", dir, "' && printf 'subjectAltName=", san,
                   "\\nextendedKeyUsage=serverAuth,clientAuth\\n' > ", name, ".ext && ",
                   "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ",
                   name, ".key -out ", name, ".csr -subj /CN=", name, " && openssl x509 -req -in ",
                   name, ".csr -CA ", ca, ".pem -CAkey ", ca, ".key -CAcreateserial -days 1 -out ",
                   name, ".pem -extfile ", name, ".ext"));
}

const Certs* MakeCerts() {
  auto* c = new Certs;
  c->dir = testing_util::MakeTempDir("certs");
  const std::string& d = c->dir;
  if (!MakeCa(d, "ca") || !MakeCert(d, "ca", "node", "IP:127.0.0.1,DNS:localhost") ||
      !MakeCert(d, "ca", "client", "DNS:psrec-operator") || !MakeCa(d, "stranger_ca") ||
      !MakeCert(d, "stranger_ca", "stranger", "IP:127.0.0.1,DNS:localhost")) {
    return nullptr;
  }
  c->ca = d + "/ca.pem";
  c->node_cert = d + "/node.pem";
  c->node_key = d + "/node.key";
  c->client_cert = d + "/client.pem";
  c->client_key = d + "/client.key";
  c->stranger_ca = d + "/stranger_ca.pem";
  c->stranger_cert = d + "/stranger.pem";
  c->stranger_key = d + "/stranger.key";
  c->token = d + "/token";
  c->wrong_token = d + "/wrong_token";
  std::ofstream(c->token) << "  " << kToken << "\n";  // whitespace is trimmed
  std::ofstream(c->wrong_token) << "not-the-token\n";
  return c;
}

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (Sh("openssl version")) certs_ = MakeCerts();
  }
  void SetUp() override {
    PSREC_REQUIRE(Sh("openssl version"), "openssl");
    ASSERT_NE(certs_, nullptr) << "openssl failed to make the test certificates";
    const std::string dir = testing_util::MakeTempDir("security");
    train_ = dir + "/train.rating";
    log_ = dir + "/coordinator.log";
    std::ofstream f(train_);
    for (int u = 1; u <= 20; ++u) f << u << "\t" << (u % 7) + 1 << "\t1\t0\n";
  }

  // The flags every process of the cluster gets.
  std::vector<std::string> ClusterFlags() const {
    return {"--tls_cert=" + certs_->node_cert, "--tls_key=" + certs_->node_key,
            "--tls_ca=" + certs_->ca, "--auth_token_file=" + certs_->token};
  }
  std::vector<std::string> OperatorFlags() const {
    return {"--tls_cert=" + certs_->client_cert, "--tls_key=" + certs_->client_key,
            "--tls_ca=" + certs_->ca, "--auth_token_file=" + certs_->token};
  }

  // A TLS + token coordinator (stderr to log_) and one server.
  void StartCluster() {
    std::string cmd = absl::StrCat("exec \"$0\" coordinator --train=", train_,
                                   " --servers=1 --dim=4 --epochs=100000 --metrics_port=0 "
                                   "--log_level=info");
    for (const std::string& f : ClusterFlags()) absl::StrAppend(&cmd, " ", f);
    // "$1" is the --ready_fd flag Spawn appends; the log is checked for the token.
    absl::StrAppend(&cmd, " \"$1\" 2>", log_);
    auto coord = ChildProcess::Spawn("coordinator", {"-c", cmd, PSREC_BINARY}, "/bin/sh");
    ASSERT_TRUE(coord.ok()) << coord.status();
    coordinator_ = std::make_unique<ChildProcess>(std::move(*coord));
    auto port = coordinator_->WaitForPort(absl::Seconds(30));
    ASSERT_TRUE(port.ok()) << port.status();
    coordinator_address_ = absl::StrCat("127.0.0.1:", *port);

    std::vector<std::string> args = {"server", "--coordinator=" + coordinator_address_,
                                     "--log_level=warn"};
    for (const std::string& f : ClusterFlags()) args.push_back(f);
    auto server = ChildProcess::Spawn("server", args, PSREC_BINARY);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::make_unique<ChildProcess>(std::move(*server));
    auto server_port = server_->WaitForPort(absl::Seconds(30));
    ASSERT_TRUE(server_port.ok()) << server_port.status();
    server_address_ = absl::StrCat("127.0.0.1:", *server_port);
  }

  // RpcOptions of a client with these files (any may be empty).
  RpcOptions Client(const std::string& cert, const std::string& key, const std::string& ca,
                    const std::string& token) const {
    RpcOptions o;
    if (cert.empty()) {
      // No client certificate, but TLS checking the server: built by hand,
      // since the flags insist on all three files.
      o.security.ca_pem = testing_util::ReadFile(ca);
      return o;
    }
    auto s = LoadRpcSecurity({cert, key, ca, "", token});
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) o.security = *s;
    return o;
  }

  grpc::StatusCode CoordinatorStatus(const RpcOptions& rpc, rpc::StatusResponse* out = nullptr) {
    auto stub = rpc::Coordinator::NewStub(MakeChannel(coordinator_address_, rpc));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    rpc::StatusResponse resp;
    grpc::Status s = stub->GetStatus(&ctx, rpc::StatusRequest(), &resp);
    if (out != nullptr) *out = resp;
    return s.error_code();
  }
  grpc::StatusCode ServerStats(const RpcOptions& rpc) {
    auto stub = rpc::ParameterServer::NewStub(MakeChannel(server_address_, rpc));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    rpc::StatsResponse resp;
    return stub->Stats(&ctx, rpc::StatsRequest(), &resp).error_code();
  }

  static const Certs* certs_;
  std::string train_, log_;
  std::unique_ptr<ChildProcess> coordinator_, server_;
  std::string coordinator_address_, server_address_;
};

const Certs* SecurityTest::certs_ = nullptr;

TEST_F(SecurityTest, TrainsWithTlsAndToken) {
  const std::string metrics = testing_util::MakeTempDir("security_train") + "/metrics.json";
  std::vector<std::string> args = {
      "train",           "--epochs=1", "--servers=2", "--workers=2", "--metrics_json=" + metrics,
      "--log_level=warn"};
  for (const std::string& f : ClusterFlags()) args.push_back(f);
  auto r = RunPsrec(args, 120);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double hr = testing_util::JsonNumber(testing_util::ReadFile(metrics), "hr_at_10");
  EXPECT_GT(hr, 0.2) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out + r.err, kToken));
}

TEST_F(SecurityTest, RefusesStrangers) {
  StartCluster();
  if (HasFatalFailure()) return;
  const Certs& c = *certs_;

  rpc::StatusResponse status;
  EXPECT_EQ(CoordinatorStatus(Client(c.client_cert, c.client_key, c.ca, c.token), &status),
            grpc::StatusCode::OK);
  EXPECT_EQ(ServerStats(Client(c.client_cert, c.client_key, c.ca, c.token)), grpc::StatusCode::OK);

  // The TLS handshake fails: the client sees UNAVAILABLE, no service runs.
  EXPECT_EQ(CoordinatorStatus(RpcOptions()), grpc::StatusCode::UNAVAILABLE) << "plaintext";
  EXPECT_EQ(CoordinatorStatus(Client("", "", c.ca, "")), grpc::StatusCode::UNAVAILABLE)
      << "no client certificate";
  EXPECT_EQ(CoordinatorStatus(Client(c.stranger_cert, c.stranger_key, c.ca, c.token)),
            grpc::StatusCode::UNAVAILABLE)
      << "client certificate from another CA";
  EXPECT_EQ(ServerStats(Client(c.stranger_cert, c.stranger_key, c.ca, c.token)),
            grpc::StatusCode::UNAVAILABLE)
      << "client certificate from another CA, at a server";
  EXPECT_EQ(CoordinatorStatus(Client(c.stranger_cert, c.stranger_key, c.stranger_ca, c.token)),
            grpc::StatusCode::UNAVAILABLE)
      << "the client does not trust the cluster's CA";

  // --tls_server_name: the name checked in the server's certificate.
  RpcOptions named = Client(c.client_cert, c.client_key, c.ca, c.token);
  named.security.files.tls_server_name = "localhost";
  EXPECT_EQ(CoordinatorStatus(named), grpc::StatusCode::OK) << "a name the certificate carries";
  named.security.files.tls_server_name = "elsewhere.example";
  EXPECT_EQ(CoordinatorStatus(named), grpc::StatusCode::UNAVAILABLE)
      << "a name the certificate does not carry";

  // Valid TLS, but the token is missing or wrong.
  EXPECT_EQ(CoordinatorStatus(Client(c.client_cert, c.client_key, c.ca, "")),
            grpc::StatusCode::UNAUTHENTICATED)
      << "no token";
  EXPECT_EQ(CoordinatorStatus(Client(c.client_cert, c.client_key, c.ca, c.wrong_token)),
            grpc::StatusCode::UNAUTHENTICATED)
      << "wrong token";
  EXPECT_EQ(ServerStats(Client(c.client_cert, c.client_key, c.ca, "")),
            grpc::StatusCode::UNAUTHENTICATED)
      << "no token, at a server";

  // Counted in the coordinator's metrics.
  ASSERT_GT(status.metrics_port(), 0u);
  const std::string body = testing_util::ScrapeMetrics(static_cast<int>(status.metrics_port()));
  EXPECT_EQ(testing_util::MetricValue(body, "psrec_rpc_refused_total{reason=\"no_token\"}"), 1)
      << body;
  EXPECT_EQ(testing_util::MetricValue(body, "psrec_rpc_refused_total{reason=\"wrong_token\"}"), 1)
      << body;

  // Logged (once per 10 s at most), never with the token.
  coordinator_->Stop(absl::Seconds(5));
  const std::string log = testing_util::ReadFile(log_);
  EXPECT_TRUE(absl::StrContains(log, "refused a call: no auth token")) << log;
  EXPECT_FALSE(absl::StrContains(log, kToken)) << log;
  EXPECT_FALSE(absl::StrContains(log, "not-the-token")) << log;
}

TEST_F(SecurityTest, HealthAndStatusTakeTheSameFlags) {
  StartCluster();
  if (HasFatalFailure()) return;
  std::vector<std::string> health = {"health", "--target=" + server_address_, "--wait_seconds=20"};
  auto plain = RunPsrec({"health", "--target=" + server_address_}, 30);
  EXPECT_EQ(plain.exit_code, 1) << plain.out;
  for (const std::string& f : OperatorFlags()) health.push_back(f);
  auto secure = RunPsrec(health, 60);
  EXPECT_EQ(secure.exit_code, 0) << secure.err;
  EXPECT_EQ(secure.out, "SERVING\n");

  std::vector<std::string> status = {"status", "--coordinator=" + coordinator_address_, "--json"};
  for (const std::string& f : OperatorFlags()) status.push_back(f);
  auto st = RunPsrec(status, 30);
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_TRUE(absl::StrContains(st.out, "\"health\": \"SERVING\"")) << st.out;
  auto no_token = RunPsrec(
      {"status", "--coordinator=" + coordinator_address_, "--tls_cert=" + certs_->client_cert,
       "--tls_key=" + certs_->client_key, "--tls_ca=" + certs_->ca},
      30);
  EXPECT_EQ(no_token.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(no_token.err, "no auth token")) << no_token.err;
}

// A half-given or unreadable set of files is an error naming the flag and
// file, before anything listens or dials.
TEST_F(SecurityTest, BadSecurityFlagsAreNamed) {
  const Certs& c = *certs_;
  auto expect_error = [](const std::vector<std::string>& args, const std::string& text) {
    std::vector<std::string> all = {"server", "--coordinator=127.0.0.1:1"};
    all.insert(all.end(), args.begin(), args.end());
    auto r = RunPsrec(all, 30);
    EXPECT_EQ(r.exit_code, 2) << text;
    EXPECT_TRUE(absl::StrContains(r.err, text)) << r.err;
  };
  expect_error({"--tls_cert=" + c.node_cert}, "--tls_key and --tls_ca missing");
  expect_error({"--tls_cert=" + c.node_cert, "--tls_key=" + c.dir + "/nope", "--tls_ca=" + c.ca},
               "--tls_key=" + c.dir + "/nope: cannot read it");
  expect_error({"--tls_cert=" + c.node_key, "--tls_key=" + c.node_key, "--tls_ca=" + c.ca},
               "--tls_cert=" + c.node_key + ": not a PEM file with a CERTIFICATE");
  expect_error({"--auth_token_file=" + c.token}, "needs TLS");
  const std::string empty = c.dir + "/empty_token";
  std::ofstream(empty) << " \n";
  std::vector<std::string> tls = {"--tls_cert=" + c.node_cert, "--tls_key=" + c.node_key,
                                  "--tls_ca=" + c.ca, "--auth_token_file=" + empty};
  expect_error(tls, "--auth_token_file=" + empty + ": the file is empty");
}

}  // namespace
}  // namespace psrec
