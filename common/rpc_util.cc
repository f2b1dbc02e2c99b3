#include "common/rpc_util.h"

#include <grpcpp/generic/async_generic_service.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/health.h"
#include "common/rpc_auth.h"
#include "common/rpc_metrics.h"

namespace psrec {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

absl::Status FromGrpc(const grpc::Status& s, absl::string_view context) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(context, ": ", s.error_message()));
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const RpcOptions& rpc) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(rpc.limits.max_message_bytes);
  args.SetMaxSendMessageSize(rpc.limits.max_message_bytes);
  // Each worker->server pair gets its own connection rather than sharing one
  // subchannel across stubs, so parallel requests do not queue on one socket.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (rpc.security.tls() && !rpc.security.files.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(rpc.security.files.tls_server_name);
  }
  return grpc::CreateCustomChannel(address, MakeChannelCredentials(rpc.security), args);
}

void ConfigureServerBuilder(grpc::ServerBuilder* builder, const RpcOptions& rpc) {
  builder->SetMaxReceiveMessageSize(rpc.limits.max_message_bytes);
  builder->SetMaxSendMessageSize(rpc.limits.max_message_bytes);
  if (rpc.limits.max_concurrent_requests > 0) {
    // The synchronous server runs each request on a thread of its quota (one
    // more polls for new ones); a request that finds every thread busy is
    // answered RESOURCE_EXHAUSTED by gRPC itself.
    grpc::ResourceQuota quota("psrec-server");
    quota.SetMaxThreads(rpc.limits.max_concurrent_requests + 1);
    builder->SetResourceQuota(quota);
  }
}

void SetDeadline(grpc::ClientContext* ctx, absl::Duration timeout) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& host, int port, const std::vector<grpc::Service*>& services,
    int* bound_port, const RpcOptions& rpc) {
  return StartGrpcServerWithMetrics(host, port, services, bound_port, nullptr, rpc);
}

void ReportPort(int ready_fd, int port) {
  if (ready_fd < 0) return;
  std::string line = absl::StrCat(port, "\n");
  ssize_t unused = ::write(ready_fd, line.data(), line.size());
  (void)unused;
  ::close(ready_fd);
}

}  // namespace psrec
