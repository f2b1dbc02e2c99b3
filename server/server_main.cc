#include "server/server_main.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/health.h"
#include "common/logging.h"
#include "common/process_metrics.h"
#include "common/rpc_util.h"
#include "common/shutdown_signal.h"
#include "coordinator/coordinator_client.h"
#include "server/checkpoint_service.h"
#include "server/checkpoint_store.h"
#include "server/ps_service.h"
#include "server/replicated_shards.h"

namespace psrec {
namespace {

// Table and process figures, read from the service's own Stats at scrape time.
void AddServerCollectors(ParameterServerService* service, PrometheusRegistry* registry) {
  auto stats = [service] {
    rpc::StatsRequest req;
    rpc::StatsResponse resp;
    service->Stats(nullptr, &req, &resp);
    return resp;
  };
  using Type = PrometheusRegistry::Type;
  auto per_table = [&](const std::string& name, const std::string& help, Type type,
                       uint64_t (rpc::TableStats::*field)() const) {
    registry->AddCollector(name, help, type, [stats, field](std::vector<Sample>* out) {
      const rpc::StatsResponse s = stats();  // outlives the loop over its tables
      for (const rpc::TableStats& t : s.tables()) {
        out->push_back({"table=\"" + t.name() + "\"", static_cast<double>((t.*field)())});
      }
    });
  };
  per_table("psrec_table_rows", "Rows held by this server, per table.", Type::kGauge,
            &rpc::TableStats::rows);
  per_table("psrec_table_bytes", "Bytes of parameters and optimizer state, per table.",
            Type::kGauge, &rpc::TableStats::bytes);
  per_table("psrec_optimizer_steps_total", "Row updates applied by the optimizer, per table.",
            Type::kCounter, &rpc::TableStats::optimizer_steps);
  per_table("psrec_delta_rows_total",
            "Of the row updates, changes added by windowed workers (--sync_every), per table.",
            Type::kCounter, &rpc::TableStats::delta_rows);
  registry->AddCollector("psrec_server_rejected_requests_total",
                         "Pulls and pushes refused (bad keys, sizes, non-finite gradients, "
                         "over --max_keys_per_request).",
                         Type::kCounter, [stats](std::vector<Sample>* out) {
                           const rpc::StatsResponse s = stats();
                           const uint64_t special = s.nonfinite_rejected() + s.over_limit_rejected();
                           out->push_back({"reason=\"invalid\"",
                                           static_cast<double>(s.rejected() - std::min(s.rejected(), special))});
                           out->push_back({"reason=\"over_limit\"",
                                           static_cast<double>(s.over_limit_rejected())});
                           out->push_back({"reason=\"nonfinite\"",
                                           static_cast<double>(s.nonfinite_rejected())});
                         });
  registry->AddCollector("psrec_process_resident_bytes", "Resident memory of this process.",
                         Type::kGauge, [stats](std::vector<Sample>* out) {
                           out->push_back({"", static_cast<double>(stats().rss_bytes())});
                         });
}

}  // namespace

int RunServer(const ServerOptions& options) {
  ShutdownSignal shutdown;
  // Used only with --replicas=2; outlives the service that routes to it.
  ReplicatedShards replicas;
  ParameterServerService service(&shutdown, options.rpc.limits.max_keys_per_request);
  // Declared after the service and before the gRPC server: scrapes ask the
  // service, and the server records into the metrics.
  auto metrics =
      ProcessMetrics::Start(options.host, options.metrics_port, {"psrec.rpc.ParameterServer"});
  if (!metrics.ok()) {
    spdlog::error("{}", metrics.status().message());
    return 1;
  }
  AddServerCollectors(&service, (*metrics)->registry());
  CheckpointService checkpoints(options.checkpoint_dir, (*metrics)->registry());
  int port = 0;
  auto server = StartGrpcServerWithMetrics(options.host, options.port,
                                           {&service, &checkpoints, &replicas}, &port,
                                           (*metrics)->rpc(), options.rpc);
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  ReportPort(options.ready_fd, port);
  const std::string address = absl::StrCat(
      options.advertise_host.empty() ? options.host : options.advertise_host, ":", port);

  CoordinatorClient coordinator(options.coordinator, options.rpc, options.coordinator_timeout);
  coordinator.set_cancel([&shutdown] { return shutdown.requested(); });
  if ((*metrics)->port() > 0) {
    spdlog::info("metrics on http://{}:{}/metrics", options.host, (*metrics)->port());
  }
  auto reg = coordinator.Register(rpc::ROLE_SERVER, address, options.shard_index,
                                  (*metrics)->port());
  if (absl::IsCancelled(reg.status())) {
    spdlog::info("stopped before registering with the coordinator");
    return 0;
  }
  if (!reg.ok()) {
    spdlog::error("register with the coordinator: {}", reg.status().message());
    return 1;
  }
  SetLogRole(absl::StrCat("server ", reg->id()));
  service.set_run_id(reg->run_id());
  checkpoints.set_run_id(reg->run_id());
  // With replicas, the backups keep the state (README "Failure and recovery"):
  // no checkpoint rounds, nothing to restore.
  const rpc::CheckpointRestorePoint& restore = reg->restore();
  if (reg->config().replicas() >= 2) {
    if (auto s = replicas.Configure(reg->config(), reg->id(), options.coordinator, options.rpc);
        !s.ok()) {
      spdlog::error("replication: {}", s.message());
      return 1;
    }
    service.set_router(&replicas);
  } else {
    auto shard = ShardState::Create(reg->config(), reg->id());
    if (!shard.ok()) {
      spdlog::error("configure shard: {}", shard.status().message());
      return 1;
    }
    if (const std::string dir = checkpoints.DirFor(restore.dir()); !dir.empty()) {
      auto restored = CheckpointStore(dir, reg->id())
                          .Restore(restore.round(), restore.use_final(), shard->get());
      if (!restored.ok()) {
        spdlog::error("restore checkpoint: {}", restored.status().message());
        return 1;
      }
      if (restored->round > 0 || restored->from_final) {
        spdlog::info("restored {} rows of shard {} from {} ({})", restored->rows, reg->id(),
                     restored->path,
                     restored->from_final ? "its SIGTERM snapshot" : "a checkpoint round");
      }
    }
    checkpoints.SetShard(shard->get());
    service.SetShard(std::move(*shard));
  }
  SetServing(server->get(), true);
  spdlog::info("serving shard {} of {} on {} (model {}, optimizer {})", reg->id(),
               reg->expected_servers(), address, reg->config().model(),
               reg->config().optimizer());

  std::atomic<uint64_t> last_complete_round{restore.round()};
  std::thread heartbeat([&] {
    absl::Time last_ok = absl::Now();
    while (!shutdown.WaitFor(absl::Seconds(1))) {
      auto hb = coordinator.Heartbeat(rpc::ROLE_SERVER, reg->id());
      if (hb.ok()) {
        last_ok = absl::Now();
        last_complete_round.store(hb->last_complete_round());
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
  // The requests in flight are finished and no push can arrive: the snapshot
  // holds every update this server acknowledged.
  if (shutdown.signal_number() != 0) {
    // The newest complete round, asked now rather than a heartbeat ago: the
    // snapshot is used on restart only if no round completed after it.
    if (auto hb = coordinator.Heartbeat(rpc::ROLE_SERVER, reg->id()); hb.ok()) {
      last_complete_round.store(std::max(last_complete_round.load(), hb->last_complete_round()));
    }
    service.ApplyBufferedPushes();  // bsp: acknowledged, so in the snapshot
    if (auto s = checkpoints.WriteFinal(restore.dir(), last_complete_round.load()); !s.ok()) {
      spdlog::error("final snapshot: {}", s.message());
    }
  }
  return 0;
}

}  // namespace psrec
