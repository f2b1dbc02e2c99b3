#include "common/rpc_auth.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_metadata_processor.h>
#include <spdlog/spdlog.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/prometheus.h"

namespace psrec {
namespace {

constexpr char kAuthHeader[] = "authorization";
constexpr char kBearer[] = "Bearer ";

// Adds the token to every call of a channel.
class TokenPlugin : public grpc::MetadataCredentialsPlugin {
 public:
  explicit TokenPlugin(const std::string& token) : value_(kBearer + token) {}
  bool IsBlocking() const override { return false; }  // no I/O: run inline
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<grpc::string, grpc::string>* metadata) override {
    metadata->emplace(kAuthHeader, value_);
    return grpc::Status::OK;
  }

 private:
  const std::string value_;
};

// Equal, in time independent of where they differ.
bool ConstantTimeEquals(grpc::string_ref a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < b.size(); ++i) diff |= static_cast<unsigned char>(a.data()[i] ^ b[i]);
  return diff == 0;
}

// Checks every call's token on the server; runs before the call reaches any
// service, health included.
class TokenChecker : public grpc::AuthMetadataProcessor {
 public:
  TokenChecker(const std::string& token, AuthRefusalCounters counters)
      : expected_(kBearer + token), counters_(counters) {}
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed, OutputMetadata*) override {
    auto it = metadata.find(kAuthHeader);
    if (it == metadata.end()) return Refuse(*context, "no auth token", counters_.no_token);
    if (!ConstantTimeEquals(it->second, expected_)) {
      return Refuse(*context, "wrong auth token", counters_.wrong_token);
    }
    // Consumed: the token is not handed on to the services.
    consumed->emplace(kAuthHeader, std::string(it->second.data(), it->second.size()));
    return grpc::Status::OK;
  }

 private:
  grpc::Status Refuse(const grpc::AuthContext& context, const char* why, Counter* counter) {
    if (counter != nullptr) counter->Add();
    std::string who = "unnamed client";
    std::vector<std::string> names;
    for (const grpc::string_ref& n : context.GetPeerIdentity())
      names.emplace_back(n.data(), n.size());
    if (!names.empty()) who = absl::StrCat("client certificate ", absl::StrJoin(names, ","));
    {
      absl::MutexLock lock(&mu_);
      ++refused_since_log_;
      const absl::Time now = absl::Now();
      if (now - last_log_ >= absl::Seconds(10)) {
        spdlog::warn("refused a call: {} ({}); {} call(s) refused since the last such line", why,
                     who, refused_since_log_);
        refused_since_log_ = 0;
        last_log_ = now;
      }
    }
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        absl::StrCat(why, ": every call needs the cluster's --auth_token_file"));
  }

  const std::string expected_;
  const AuthRefusalCounters counters_;
  absl::Mutex mu_;
  absl::Time last_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t refused_since_log_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const RpcSecurity& security) {
  if (!security.tls()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = security.ca_pem;
  ssl.pem_private_key = security.key_pem;
  ssl.pem_cert_chain = security.cert_pem;
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::SslCredentials(ssl);
  if (!security.has_token()) return creds;
  return grpc::CompositeChannelCredentials(
      creds, grpc::MetadataCredentialsFromPlugin(std::make_unique<TokenPlugin>(security.token)));
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const RpcSecurity& security,
                                                               AuthRefusalCounters counters) {
  if (!security.tls()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = security.ca_pem;
  ssl.pem_key_cert_pairs.push_back({security.key_pem, security.cert_pem});
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::SslServerCredentials(ssl);
  if (security.has_token()) {
    creds->SetAuthMetadataProcessor(std::make_shared<TokenChecker>(security.token, counters));
  }
  return creds;
}

}  // namespace psrec
