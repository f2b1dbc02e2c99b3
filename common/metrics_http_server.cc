#include "common/metrics_http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace psrec {
namespace {

MHD_Result Respond(MHD_Connection* connection, unsigned int code, const std::string& body,
                   const char* content_type) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  const MHD_Result result = MHD_queue_response(connection, code, response);
  MHD_destroy_response(response);
  return result;
}

MHD_Result Handle(void* cls, MHD_Connection* connection, const char* url, const char* method,
                  const char*, const char*, size_t*, void**) {
  const auto* registry = static_cast<const PrometheusRegistry*>(cls);
  if (std::strcmp(method, "GET") != 0 && std::strcmp(method, "HEAD") != 0) {
    return Respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics\n", "text/plain");
  }
  if (std::strcmp(url, "/metrics") != 0 && std::strcmp(url, "/") != 0) {
    return Respond(connection, MHD_HTTP_NOT_FOUND, "psrec serves /metrics\n", "text/plain");
  }
  return Respond(connection, MHD_HTTP_OK, registry->Render(),
                 "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& host, int port, const PrometheusRegistry* registry) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  // "::" means every interface, as it does for gRPC's listening address.
  const std::string ip = host == "::" || host == "[::]" ? "0.0.0.0" : host;
  if (::inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) {
    // A host name: its first IPv4 address.
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(ip.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--host=", host, ": no IPv4 address to serve metrics on (--metrics_port=-1 turns them off)"));
    }
    address.sin_addr = reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr;
    ::freeaddrinfo(found);
  }
  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, static_cast<uint16_t>(port), nullptr,
      nullptr, &Handle, const_cast<PrometheusRegistry*>(registry), MHD_OPTION_SOCK_ADDR,
      reinterpret_cast<sockaddr*>(&address), MHD_OPTION_END);
  if (daemon == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", host, ":", port, " (--metrics_port in use?)"));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  const int bound = info != nullptr ? info->port : port;
  return std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(daemon, bound));
}

MetricsHttpServer::~MetricsHttpServer() { MHD_stop_daemon(daemon_); }

}  // namespace psrec
