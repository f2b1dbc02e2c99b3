// The one place that converts between gRPC and psrec: status codes, packed
// little-endian arrays in `bytes` fields, table configs, channels.
#ifndef PSREC_COMMON_RPC_UTIL_H_
#define PSREC_COMMON_RPC_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/config_proto.h"
#include "common/rpc_options.h"
#include "proto/psrec.pb.h"

namespace psrec {

inline constexpr uint32_t kProtocolVersion = rpc::PROTOCOL_VERSION_CURRENT;

grpc::Status ToGrpc(const absl::Status& s);
absl::Status FromGrpc(const grpc::Status& s, absl::string_view context);

// Packed arrays are little-endian on the wire; psrec builds only for
// little-endian hosts (asserted here), so packing is a memcpy.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "psrec needs a little-endian host");
template <typename T>
void PackArray(absl::Span<const T> values, std::string* out) {
  out->resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(out->data(), values.data(), out->size());
}
// Views a `bytes` field as T[]; false when its size is not a multiple of T.
template <typename T>
bool UnpackArray(const std::string& bytes, std::vector<T>* out) {
  if (bytes.size() % sizeof(T) != 0) return false;
  out->resize(bytes.size() / sizeof(T));
  if (!bytes.empty()) std::memcpy(out->data(), bytes.data(), bytes.size());
  return true;
}


// A channel to `address` secured as `rpc.security` says (TLS and token, or
// plaintext when it has no TLS) with its message limit. Every channel of
// every role is made here, so none can fall back to plaintext when TLS is on.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const RpcOptions& rpc);
// Message limits and the cap on concurrent requests (`rpc.limits`) of a server.
void ConfigureServerBuilder(grpc::ServerBuilder* builder, const RpcOptions& rpc);

// Sets a deadline `timeout` from now on the context.
void SetDeadline(grpc::ClientContext* ctx, absl::Duration timeout);

// Views a `bytes` field as T[] in place when it is suitably aligned (the
// usual case), else copies it into `scratch`. The caller checked the size.
template <typename T>
absl::Span<const T> ViewArray(const std::string& bytes, std::vector<T>* scratch) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(T) == 0) {
    return absl::Span<const T>(reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T));
  }
  UnpackArray(bytes, scratch);
  return *scratch;
}

// Builds and starts a gRPC server on host:port (port 0: the OS chooses) with
// the given services and the standard health service, NOT_SERVING until the
// role calls SetServing (common/health.h), secured and limited as `rpc` says;
// `*bound_port` receives the port actually bound.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& host, int port, const std::vector<grpc::Service*>& services,
    int* bound_port, const RpcOptions& rpc);

// Tells the parent which port this role listens on: writes "PORT\n" to the
// file descriptor and closes it (no-op for fd < 0).
void ReportPort(int ready_fd, int port);

}  // namespace psrec

#endif  // PSREC_COMMON_RPC_UTIL_H_
