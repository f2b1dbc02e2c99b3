// How one process speaks gRPC: TLS with client certificates, the shared auth
// token, and the limits its servers enforce. Built once from flags
// (cli/flags.cc), part of every role's options struct, and handed to every
// channel and server the process makes (common/rpc_util.h), so no channel can
// be made without saying how it is secured. No gRPC headers here.
#ifndef PSREC_COMMON_RPC_OPTIONS_H_
#define PSREC_COMMON_RPC_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace psrec {

inline constexpr int kDefaultMaxMessageBytes = 256 << 20;
inline constexpr uint32_t kDefaultMaxKeysPerRequest = 1 << 22;
inline constexpr int kDefaultMaxConcurrentRequests = 1024;

// The files as given on the command line (`psrec train` hands the paths on to
// its children).
struct RpcSecurityFiles {
  std::string tls_cert;         // this process's certificate chain (PEM)
  std::string tls_key;          // its private key (PEM)
  std::string tls_ca;           // the CA that signs every psrec process (PEM)
  std::string tls_server_name;  // name checked in servers' certificates; "": the dialed host
  std::string auth_token_file;
};

struct RpcSecurity {
  RpcSecurityFiles files;
  // What the files hold, read once at start-up. Empty: plaintext, no token.
  std::string cert_pem, key_pem, ca_pem;
  std::string token;  // never logged
  bool tls() const { return !ca_pem.empty(); }
  bool has_token() const { return !token.empty(); }
};

struct RpcLimits {
  // Largest message sent or accepted (larger: RESOURCE_EXHAUSTED from gRPC).
  int max_message_bytes = kDefaultMaxMessageBytes;
  // Keys in one pull or push a parameter server accepts.
  uint32_t max_keys_per_request = kDefaultMaxKeysPerRequest;
  // Requests a server runs at once (gRPC ResourceQuota threads); more get
  // RESOURCE_EXHAUSTED. 0: no limit.
  int max_concurrent_requests = kDefaultMaxConcurrentRequests;
};

// Default-constructed: plaintext, no token, default limits (tests, tools).
struct RpcOptions {
  RpcSecurity security;
  RpcLimits limits;
};

// Reads and checks the files: the three TLS files together or none, each
// readable and PEM of the right kind; the token file needs TLS (a token in
// plaintext can be read off the wire) and is trimmed of whitespace, and
// must not be empty. Errors name the flag and the file.
absl::StatusOr<RpcSecurity> LoadRpcSecurity(const RpcSecurityFiles& files);

// Checks the limits; errors name the flag.
absl::Status ValidateRpcLimits(const RpcLimits& limits);

// The flags that give a child process the same settings (psrec train).
std::vector<std::string> RpcOptionsAsFlags(const RpcOptions& options);

}  // namespace psrec

#endif  // PSREC_COMMON_RPC_OPTIONS_H_
