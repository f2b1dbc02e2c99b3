// gRPC credentials from a process's RpcSecurity (common/rpc_options.h):
// mutual TLS (each side presents a certificate signed by the shared CA and
// verifies the other's) and a shared token in every call's metadata.
#ifndef PSREC_COMMON_RPC_AUTH_H_
#define PSREC_COMMON_RPC_AUTH_H_

#include <memory>

#include "common/rpc_options.h"

namespace grpc {
class ChannelCredentials;
class ServerCredentials;
}  // namespace grpc

namespace psrec {

class Counter;

// Where a server counts the calls it refused for their token (may be null).
struct AuthRefusalCounters {
  Counter* no_token = nullptr;
  Counter* wrong_token = nullptr;
};

// TLS with this process's certificate, checking the server's against the CA,
// and the token on every call; plaintext when `security` has no TLS.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const RpcSecurity& security);

// TLS that requires a client certificate signed by the CA (a handshake
// without one fails, the client sees UNAVAILABLE), and with a token, a check
// of every call's token: a call without it or with another one is refused
// with UNAUTHENTICATED, counted, and logged (at most one line per 10 s, with
// the number refused since; never the token). Plaintext without TLS.
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const RpcSecurity& security,
                                                               AuthRefusalCounters counters);

}  // namespace psrec

#endif  // PSREC_COMMON_RPC_AUTH_H_
