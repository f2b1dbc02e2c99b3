#include "common/rpc_options.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"

namespace psrec {
namespace {

// The file's contents; an error naming the flag when it cannot be read or
// does not hold a PEM block of `kind` ("CERTIFICATE", "PRIVATE KEY").
absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path,
                                    const std::string& kind) {
  auto pem = ReadWholeFile(path);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--%s=%s: cannot read it: %s", flag, path, pem.status().message()));
  }
  // "-----BEGIN PRIVATE KEY", "-----BEGIN RSA PRIVATE KEY", "-----BEGIN EC PRIVATE KEY".
  if (!absl::StrContains(*pem, "-----BEGIN ") || !absl::StrContains(*pem, kind + "-----")) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--%s=%s: not a PEM file with a %s", flag, path, kind));
  }
  return pem;
}

}  // namespace

absl::StatusOr<RpcSecurity> LoadRpcSecurity(const RpcSecurityFiles& files) {
  RpcSecurity s;
  s.files = files;
  const int given = !files.tls_cert.empty() + !files.tls_key.empty() + !files.tls_ca.empty();
  if (given != 0 && given != 3) {
    std::string missing;
    for (const auto& [flag, value] :
         {std::pair<const char*, const std::string&>{"tls_cert", files.tls_cert},
          {"tls_key", files.tls_key},
          {"tls_ca", files.tls_ca}}) {
      if (value.empty()) absl::StrAppend(&missing, missing.empty() ? "" : " and ", "--", flag);
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS needs --tls_cert, --tls_key and --tls_ca together; ", missing, " missing"));
  }
  if (given == 3) {
    auto cert = ReadPem("tls_cert", files.tls_cert, "CERTIFICATE");
    if (!cert.ok()) return cert.status();
    auto key = ReadPem("tls_key", files.tls_key, "PRIVATE KEY");
    if (!key.ok()) return key.status();
    auto ca = ReadPem("tls_ca", files.tls_ca, "CERTIFICATE");
    if (!ca.ok()) return ca.status();
    s.cert_pem = std::move(*cert);
    s.key_pem = std::move(*key);
    s.ca_pem = std::move(*ca);
  } else if (!files.tls_server_name.empty()) {
    return absl::InvalidArgumentError(
        "--tls_server_name is checked in TLS certificates; give --tls_cert, --tls_key and "
        "--tls_ca too");
  }
  if (!files.auth_token_file.empty()) {
    if (given == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--auth_token_file=%s needs TLS (--tls_cert, --tls_key, --tls_ca): a token sent in "
          "plaintext can be read off the wire",
          files.auth_token_file));
    }
    auto token = ReadWholeFile(files.auth_token_file);
    if (!token.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat("--auth_token_file=%s: cannot read it: %s",
                                                        files.auth_token_file,
                                                        token.status().message()));
    }
    s.token = std::string(absl::StripAsciiWhitespace(*token));
    if (s.token.empty()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--auth_token_file=%s: the file is empty (or only whitespace)", files.auth_token_file));
    }
    // The token travels as an HTTP/2 header value: printable ASCII only.
    for (char c : s.token) {
      if (c < 0x20 || c > 0x7e) {
        return absl::InvalidArgumentError(
            absl::StrFormat("--auth_token_file=%s: the token must be printable ASCII on one line",
                            files.auth_token_file));
      }
    }
  }
  return s;
}

absl::Status ValidateRpcLimits(const RpcLimits& limits) {
  if (limits.max_message_bytes < 4096) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--max_message_bytes=%d: must be at least 4096", limits.max_message_bytes));
  }
  if (limits.max_keys_per_request == 0) {
    return absl::InvalidArgumentError("--max_keys_per_request must be at least 1");
  }
  if (limits.max_concurrent_requests < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--max_concurrent_requests=%d: must be 0 (no limit) or more",
                        limits.max_concurrent_requests));
  }
  return absl::OkStatus();
}

std::vector<std::string> RpcOptionsAsFlags(const RpcOptions& o) {
  std::vector<std::string> flags;
  const RpcSecurityFiles& f = o.security.files;
  if (!f.tls_cert.empty()) flags.push_back("--tls_cert=" + f.tls_cert);
  if (!f.tls_key.empty()) flags.push_back("--tls_key=" + f.tls_key);
  if (!f.tls_ca.empty()) flags.push_back("--tls_ca=" + f.tls_ca);
  if (!f.tls_server_name.empty()) flags.push_back("--tls_server_name=" + f.tls_server_name);
  if (!f.auth_token_file.empty()) flags.push_back("--auth_token_file=" + f.auth_token_file);
  flags.push_back(absl::StrCat("--max_message_bytes=", o.limits.max_message_bytes));
  flags.push_back(absl::StrCat("--max_keys_per_request=", o.limits.max_keys_per_request));
  flags.push_back(absl::StrCat("--max_concurrent_requests=", o.limits.max_concurrent_requests));
  return flags;
}

}  // namespace psrec
