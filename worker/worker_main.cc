#include "worker/worker_main.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/data_reader.h"
#include "common/training_data.h"
#include "common/health.h"
#include "common/logging.h"
#include "common/process_metrics.h"
#include "common/rpc_util.h"
#include "common/shutdown_signal.h"
#include "coordinator/coordinator_client.h"
#include "worker/barrier_batch_clock.h"
#include "worker/grpc_ps_client.h"
#include "worker/data_shards.h"
#include "worker/loss.h"
#include "worker/trainer.h"

namespace psrec {
namespace {

int Fail(const absl::Status& s, const char* what) {
  spdlog::error("{}: {}", what, s.message());
  return 1;
}

}  // namespace

int RunWorker(const WorkerOptions& options) {
  ShutdownSignal shutdown;
  auto metrics = ProcessMetrics::Start(options.host, options.metrics_port, {});
  if (!metrics.ok()) return Fail(metrics.status(), "metrics endpoint");
  PrometheusRegistry* registry = (*metrics)->registry();
  Counter* examples_trained = registry->AddCounter(
      "psrec_worker_examples_total", "Training examples (negatives included) in completed shards.");
  Counter* shards_trained =
      registry->AddCounter("psrec_worker_shards_total", "Data shards trained and reported.");
  Histogram* shard_seconds =
      registry->AddHistogram("psrec_worker_shard_seconds", "Time to train one data shard.", "",
                             {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000});
  int port = 0;
  auto health_server = StartGrpcServerWithMetrics(options.host, options.port, {}, &port,
                                                  (*metrics)->rpc(), options.rpc);
  if (!health_server.ok()) return Fail(health_server.status(), "health endpoint");
  ReportPort(options.ready_fd, port);
  // Not SERVING until joined; stops serving on any way out.
  struct StopHealthServer {
    grpc::Server* server;
    ~StopHealthServer() {
      SetServing(server, false);
      server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      server->Wait();
    }
  } stop_health_server{health_server->get()};
  CoordinatorClient coordinator(options.coordinator, options.rpc, options.retry_budget);
  coordinator.set_cancel([&shutdown] { return shutdown.requested(); });
  if ((*metrics)->port() > 0) {
    spdlog::info("metrics on http://{}:{}/metrics", options.host, (*metrics)->port());
  }
  auto reg = coordinator.Register(rpc::ROLE_WORKER, "", options.worker_index,
                                  (*metrics)->port());
  if (absl::IsCancelled(reg.status())) {
    spdlog::info("stopped before joining");
    return 0;
  }
  if (!reg.ok()) return Fail(reg.status(), "register with the coordinator");
  const uint32_t id = reg->id();
  const rpc::RunConfig& config = reg->config();
  SetLogRole(absl::StrCat("worker ", id));

  auto map = coordinator.WaitForShardMap(options.shard_map_timeout);
  if (absl::IsCancelled(map.status())) {
    spdlog::info("stopped before joining");
    return 0;
  }
  if (!map.ok()) return Fail(map.status(), "shard map");
  const std::vector<TableConfig> tables = TablesFromConfig(config);
  auto ps = GrpcPsClient::Create(*map, tables, options.rpc, options.retry_budget);
  if (!ps.ok()) return Fail(ps.status(), "parameter-server client");

  // Part-file shards are read as they are leased. Otherwise the same split as
  // the coordinator's: validation interactions are never trained on, nor
  // known to the negative sampler.
  std::vector<uint64_t> items;
  UnpackArray(config.item_ids(), &items);
  const bool ranking = config.task() == "ranking";
  if (ranking && items.empty()) {
    return Fail(absl::InvalidArgumentError("no items"), "negative sampling");
  }
  std::unique_ptr<DataShards> shards;
  std::unique_ptr<ImplicitFeedback> implicit;
  if (config.part_file_shards()) {
    auto parts = DataShards::FromPartFiles(config);
    if (!parts.ok()) return Fail(parts.status(), "training data");
    shards = std::move(*parts);
  } else if (!ValidationEnabled(config)) {
    // One streaming pass: nothing but the compact rows is held.
    auto all = DataShards::FromTrainingFile(config);
    if (!all.ok()) return Fail(all.status(), "training data");
    shards = std::move(*all);
  } else {
    auto split = ReadTrainingData(config);
    if (!split.ok()) return Fail(split.status(), "training data");
    auto all = DataShards::FromInteractions(std::move(split->train), config.data_shards(),
                                           RecencyFromConfig(config));
    if (!all.ok()) return Fail(all.status(), "training data");
    shards = std::move(*all);
  }
  std::unique_ptr<NegativeSampler> sampler;
  if (ranking) {
    sampler = std::make_unique<NegativeSampler>(std::move(items));
    sampler->AddPositives(shards->HeldShards());
  }
  // N(u) from every user's training interactions (the worker holds them
  // all), not only the shards it happens to train.
  if (config.implicit_feedback() && !config.part_file_shards()) {
    implicit = std::make_unique<ImplicitFeedback>(shards->HeldShards());
  }
  if (auto loss = ParseLoss(config.loss(), config.task()); !loss.ok()) return Fail(loss.status(), "loss");
  auto model = Model::FromConfig(config);
  if (!model.ok()) return Fail(model.status(), "model");
  (*ps)->set_cancel([&shutdown] { return shutdown.requested(); });
  // Replication: a promotion moves shards; the coordinator has the new map.
  (*ps)->set_map_source([&coordinator] { return coordinator.WaitForShardMap(absl::Seconds(5)); });
  (*ps)->set_worker_id(id);
  if ((*model)->spec().implicit_dim > 0 && implicit == nullptr) {
    return Fail(absl::InvalidArgumentError(
                    "implicit feedback needs one training file, not part-file shards"),
                "model");
  }
  Trainer trainer(config, model->get(), ps->get(), sampler.get(), implicit.get());
  // Shared with the metrics collectors, which may outlive this function's
  // other locals (they only read its counters).
  std::shared_ptr<WindowedMf> windowed;
  if (config.sync_every() > 0) {
    auto w = WindowedMf::Create(config, ps->get());
    if (!w.ok()) return Fail(w.status(), "windowed training");
    windowed = std::move(*w);
    trainer.set_windowed(windowed.get());
    std::shared_ptr<WindowedMf> wp = windowed;
    registry->AddCollector("psrec_worker_sync_windows_total",
                           "Windows trained and pushed (--sync_every).",
                           PrometheusRegistry::Type::kCounter, [wp](std::vector<Sample>* out) {
                             out->push_back({"", static_cast<double>(wp->windows())});
                           });
    registry->AddCollector("psrec_worker_sync_rows_total",
                           "Row changes pushed at the ends of windows (--sync_every).",
                           PrometheusRegistry::Type::kCounter, [wp](std::vector<Sample>* out) {
                             out->push_back({"", static_cast<double>(wp->rows_pushed())});
                           });
    spdlog::info("windowed mf: {} ratings per window (--sync_every)", config.sync_every());
  }
  auto consistency = ParseConsistency(config.consistency());
  if (!consistency.ok()) return Fail(consistency.status(), "consistency");
  // ssp/bsp: every batch is a clock of the coordinator's barrier.
  BarrierBatchClock batch_clock(*consistency, id, &coordinator, ps->get());
  if (*consistency != Consistency::kAsp) trainer.set_batch_clock(&batch_clock);
  spdlog::info("joined: {} in {} data shards, {} servers; health on port {}",
               shards->lazy() ? "part files read as leased"
                              : absl::StrCat(shards->held(), " interactions"),
               shards->num_shards(), map->server_addresses_size(), port);
  SetServing(health_server->get(), true);

  // The shard being trained, -1 while none: the heartbeat reports progress on it.
  std::atomic<int64_t> leased_epoch{-1};
  std::atomic<int64_t> leased_shard{-1};
  std::thread heartbeat([&] {
    while (!shutdown.WaitFor(absl::Seconds(1))) {
      rpc::LeaseProgress progress;
      const int64_t epoch = leased_epoch.load();
      const int64_t shard = leased_shard.load();
      if (epoch >= 0 && shard >= 0) {
        progress.set_leased(true);
        progress.set_epoch(static_cast<uint32_t>(epoch));
        progress.set_shard(static_cast<uint32_t>(shard));
        progress.set_examples_done(trainer.shard_examples_done());
        progress.set_shard_examples(trainer.shard_examples());
        progress.set_loss_sum(trainer.shard_loss_sum());
      }
      auto hb = coordinator.Heartbeat(rpc::ROLE_WORKER, id, progress);
      if (hb.ok() && hb->shutdown()) shutdown.Request();
    }
  });
  int code = 0;
  while (!shutdown.requested()) {
    auto lease = coordinator.AcquireLease(id);
    if (absl::IsCancelled(lease.status())) break;
    if (!lease.ok()) {
      code = Fail(lease.status(), "lease");
      break;
    }
    if (lease->kind() == rpc::LeaseResponse::DONE) break;
    if (lease->kind() == rpc::LeaseResponse::WAIT) {
      shutdown.WaitFor(absl::Milliseconds(std::max<uint32_t>(1, lease->retry_ms())));
      continue;
    }
    const absl::Time start = absl::Now();
    leased_shard.store(-1);
    trainer.ResetProgress();
    leased_epoch.store(lease->epoch());
    leased_shard.store(lease->shard());
    bool first_read = false;
    auto shard = shards->Shard(lease->shard(), &first_read);
    if (!shard.ok()) {
      code = Fail(shard.status(), "training data");
      break;
    }
    if (first_read && sampler) sampler->AddPositives({*shard});
    batch_clock.StartLease(lease->epoch(), lease->clock());
    auto result = trainer.TrainShard(*shard, lease->epoch(), lease->shard(),
                                     [&shutdown] { return shutdown.requested(); });
    leased_shard.store(-1);
    if (absl::IsCancelled(result.status()) && shutdown.requested()) {
      spdlog::info("shutting down mid-shard (epoch {} shard {} will be leased again)",
                   lease->epoch(), lease->shard());
      break;
    }
    if (!result.ok()) {
      code = Fail(result.status(), "training");
      break;
    }
    rpc::CompleteRequest done;
    done.set_worker_id(id);
    done.set_epoch(lease->epoch());
    done.set_shard(lease->shard());
    done.set_examples(result->examples);
    done.set_loss_sum(result->loss_sum);
    done.set_compute_seconds(absl::ToDoubleSeconds(absl::Now() - start));
    if (auto s = coordinator.CompleteLease(done); absl::IsCancelled(s)) {
      break;
    } else if (!s.ok()) {
      code = Fail(s, "report shard");
      break;
    }
    examples_trained->Add(result->examples);
    shards_trained->Add();
    shard_seconds->Observe(done.compute_seconds());
    spdlog::debug("epoch {} shard {}: {} examples, loss {:.4f}", lease->epoch(), lease->shard(),
                  result->examples, result->examples ? result->loss_sum / result->examples : 0.0);
  }
  shutdown.Request();
  heartbeat.join();
  return code;
}

}  // namespace psrec
