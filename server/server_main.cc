#include "server/server_main.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/health.h"
#include "common/logging.h"
#include "common/rpc_util.h"
#include "common/shutdown_signal.h"
#include "coordinator/coordinator_client.h"
#include "server/ps_service.h"

namespace psrec {

int RunServer(const ServerOptions& options) {
  ShutdownSignal shutdown;
  ParameterServerService service(&shutdown);
  int port = 0;
  auto server = StartGrpcServer(options.host, options.port, {&service}, &port);
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  ReportPort(options.ready_fd, port);
  const std::string address = absl::StrCat(
      options.advertise_host.empty() ? options.host : options.advertise_host, ":", port);

  CoordinatorClient coordinator(options.coordinator, options.coordinator_timeout);
  coordinator.set_cancel([&shutdown] { return shutdown.requested(); });
  auto reg = coordinator.Register(rpc::ROLE_SERVER, address, options.shard_index);
  if (absl::IsCancelled(reg.status())) {
    spdlog::info("stopped before registering with the coordinator");
    return 0;
  }
  if (!reg.ok()) {
    spdlog::error("register with the coordinator: {}", reg.status().message());
    return 1;
  }
  SetLogRole(absl::StrCat("server ", reg->id()));
  auto shard = ShardState::Create(reg->config(), reg->id());
  if (!shard.ok()) {
    spdlog::error("configure shard: {}", shard.status().message());
    return 1;
  }
  service.SetShard(std::move(*shard));
  SetServing(server->get(), true);
  spdlog::info("serving shard {} of {} on {} (model {}, optimizer {})", reg->id(),
               reg->expected_servers(), address, reg->config().model(),
               reg->config().optimizer());

  std::thread heartbeat([&] {
    absl::Time last_ok = absl::Now();
    while (!shutdown.WaitFor(absl::Seconds(1))) {
      auto hb = coordinator.Heartbeat(rpc::ROLE_SERVER, reg->id());
      if (hb.ok()) {
        last_ok = absl::Now();
        if (hb->shutdown()) {
          spdlog::info("the coordinator says the run is over");
          shutdown.Request();
        }
      } else if (absl::Now() - last_ok > options.coordinator_timeout) {
        spdlog::error("coordinator {} unreachable for {}; exiting", options.coordinator,
                      absl::FormatDuration(options.coordinator_timeout));
        shutdown.Request();
      }
    }
  });
  shutdown.WaitFor(absl::InfiniteDuration());
  if (shutdown.signal_number() != 0) spdlog::info("signal {}: shutting down", shutdown.signal_number());
  SetServing(server->get(), false);
  (*server)->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  (*server)->Wait();
  heartbeat.join();
  return 0;
}

}  // namespace psrec
