#include "coordinator/coordinator_main.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/logging.h"
#include "absl/strings/str_cat.h"
#include "common/config_proto.h"
#include "common/data_reader.h"
#include "common/interaction_stream.h"
#include "common/health.h"
#include "common/process_metrics.h"
#include "common/training_data.h"
#include "common/rpc_util.h"
#include "common/shutdown_signal.h"
#include "coordinator/coordinator_service.h"
#include "worker/grpc_ps_client.h"
#include "worker/implicit_fold.h"
#include "worker/model_manifest.h"

namespace psrec {
namespace {

// Reads the whole training file once, so that every process agrees on the
// facts (item universe, mean rating, rating range) and a malformed line stops
// the run before anything trains. The facts are those of what is trained on:
// the validation split, if any, is left out as the workers leave it out.
// Without a split the file streams through: the coordinator keeps only the
// distinct ids, never the interactions.
absl::StatusOr<DatasetFacts> ReadDatasetFacts(const rpc::RunConfig& config) {
  if (!ValidationEnabled(config)) {
    DatasetFactsBuilder builder;
    absl::Status s = StreamInteractions(config.train_path(), ReaderOptionsFromConfig(config),
                                        [&builder](absl::Span<const Interaction> rows) {
                                          builder.Add(rows);
                                          return absl::OkStatus();
                                        });
    if (!s.ok()) return s;
    return builder.Finish();
  }
  auto data = ReadTrainingData(config);
  if (!data.ok()) return data.status();
  spdlog::info("--validation=auto: {} interactions held out of training for validation",
               data->validation.size());
  return ComputeFacts(data->train);
}

absl::Status FillDatasetFacts(rpc::RunConfig* config) {
  const absl::Time start = absl::Now();
  auto facts = ReadDatasetFacts(*config);
  if (!facts.ok()) return facts.status();
  config->set_global_mean(facts->global_mean);
  config->set_min_rating(facts->min_rating);
  config->set_max_rating(facts->max_rating);
  config->set_num_interactions(facts->num_interactions);
  PackArray<uint64_t>(facts->item_ids, config->mutable_item_ids());
  spdlog::info("{}: {} interactions, {} users, {} items, mean rating {:.3f} [{}, {}] ({:.2f}s)",
               config->train_path(), facts->num_interactions, facts->num_users, facts->num_items,
               facts->global_mean, facts->min_rating, facts->max_rating,
               absl::ToDoubleSeconds(absl::Now() - start));
  return absl::OkStatus();
}

absl::Status SaveModel(const rpc::ShardMap& map, const rpc::RunConfig& config,
                       const std::string& dir, const RpcOptions& rpc) {
  auto ps = GrpcPsClient::Create(map, TablesFromConfig(config), rpc);
  if (!ps.ok()) return ps.status();
  if (auto s = (*ps)->SaveAll(dir); !s.ok()) return s;
  // One model shard per logical shard: with replicas, servers that joined
  // later hold copies, not shards of their own.
  const int shards =
      map.shard_primaries_size() > 0 ? map.shard_primaries_size() : map.server_addresses_size();
  if (auto s = WriteModelManifest(dir, {config, static_cast<uint32_t>(shards)}); !s.ok()) return s;
  if (!config.implicit_feedback()) return absl::OkStatus();
  // The saved user rows carry the implicit term (worker/implicit_fold.h).
  auto data = ReadTrainingData(config);
  if (!data.ok()) return data.status();
  return FoldImplicitFeedback(dir, ImplicitFeedback(data->train));
}

// ssp/bsp clock barrier: per worker its clock and the time it waited, and
// the spread between the fastest and the slowest (all 0 under asp).
void AddClockCollectors(const CoordinatorState* state, PrometheusRegistry* registry) {
  using Type = PrometheusRegistry::Type;
  auto per_worker = [state](auto value) {
    return [state, value](std::vector<Sample>* out) {
      const rpc::StatusResponse s = state->Status();
      for (const rpc::WorkerStatus& w : s.worker_status()) {
        out->push_back({absl::StrCat("worker=\"", w.id(), "\""), value(w)});
      }
    };
  };
  registry->AddCollector(
      "psrec_coordinator_clock_wait_seconds_total",
      "Seconds each worker waited at the clock barrier (ssp, bsp).", Type::kCounter,
      per_worker([](const rpc::WorkerStatus& w) { return w.clock_wait_seconds(); }));
  registry->AddCollector(
      "psrec_coordinator_worker_clock",
      "Clocks (mini-batches) each worker finished in the current epoch (ssp, bsp).", Type::kGauge,
      per_worker([](const rpc::WorkerStatus& w) { return static_cast<double>(w.clock()); }));
  registry->AddCollector("psrec_coordinator_clock_spread",
                         "Fastest minus slowest worker clock in the barrier now (ssp, bsp).",
                         Type::kGauge, [state](std::vector<Sample>* out) {
                           out->push_back(
                               {"", static_cast<double>(state->Status().clock_spread())});
                         });
  registry->AddCollector(
      "psrec_coordinator_clock_max_ahead",
      "Most clocks a worker started ahead of the slowest, whole run (ssp: at most --staleness).",
      Type::kGauge, [state](std::vector<Sample>* out) {
        out->push_back({"", static_cast<double>(state->Status().max_clock_ahead())});
      });
}

// Lease changes and progress, read from the state at scrape time.
void AddCoordinatorCollectors(const CoordinatorState* state, PrometheusRegistry* registry) {
  using Type = PrometheusRegistry::Type;
  registry->AddCollector(
      "psrec_coordinator_lease_changes_total",
      "Data-shard leases granted, expired (taken from a silent worker) and completed.",
      Type::kCounter, [state](std::vector<Sample>* out) {
        const LeaseCounters c = state->lease_counters();
        out->push_back({"change=\"granted\"", static_cast<double>(c.granted)});
        out->push_back({"change=\"expired\"", static_cast<double>(c.expired)});
        out->push_back({"change=\"completed\"", static_cast<double>(c.completed)});
      });
  registry->AddCollector("psrec_coordinator_examples_total",
                         "Training examples of completed data shards, all epochs.",
                         Type::kCounter, [state](std::vector<Sample>* out) {
                           double examples = 0;
                           const rpc::StatusResponse status = state->Status();
                           for (const rpc::EpochSummary& e : status.history()) {
                             examples += e.examples();
                           }
                           out->push_back({"", examples});
                         });
  registry->AddCollector("psrec_coordinator_epoch", "The epoch being trained (1-based).",
                         Type::kGauge, [state](std::vector<Sample>* out) {
                           const rpc::StatusResponse s = state->Status();
                           out->push_back(
                               {"", static_cast<double>(std::min(s.current_epoch() + 1, s.epochs()))});
                         });
  registry->AddCollector("psrec_coordinator_workers", "Workers registered.", Type::kGauge,
                         [state](std::vector<Sample>* out) {
                           out->push_back({"", static_cast<double>(state->Status().workers())});
                         });
  AddClockCollectors(state, registry);
  registry->AddCollector(
      "psrec_replication_shards",
      "Logical shards by replication state (--replicas=2): degraded = running without a backup, "
      "lost = primary dead with no backup to promote.",
      Type::kGauge, [state](std::vector<Sample>* out) {
        const ReplicationCounters c = state->replication_counters();
        out->push_back({"state=\"degraded\"", static_cast<double>(c.degraded_shards)});
        out->push_back({"state=\"lost\"", static_cast<double>(c.lost_shards)});
      });
  registry->AddCollector("psrec_replication_promotions_total",
                         "Backups promoted to primary after their primary died.", Type::kCounter,
                         [state](std::vector<Sample>* out) {
                           out->push_back({"", static_cast<double>(
                                                   state->replication_counters().promotions)});
                         });
}

}  // namespace

int RunCoordinator(const CoordinatorOptions& options) {
  ShutdownSignal shutdown;
  rpc::RunConfig config = options.config;
  if (auto s = FillDatasetFacts(&config); !s.ok()) {
    spdlog::error("{}", s.message());
    return 2;
  }
  CoordinatorState state(config, options.expected_servers, options.lease);
  CoordinatorService service(&state);
  auto metrics =
      ProcessMetrics::Start(options.host, options.metrics_port, {"psrec.rpc.Coordinator"});
  if (!metrics.ok()) {
    spdlog::error("{}", metrics.status().message());
    return 1;
  }
  AddCoordinatorCollectors(&state, (*metrics)->registry());
  service.set_clock_wait_histogram((*metrics)->registry()->AddHistogram(
      "psrec_coordinator_clock_wait_call_seconds",
      "How long one Clock call blocked at the barrier (ssp, bsp).", "",
      LatencyBucketsSeconds()));
  AddCoverageCollectors(&state, (*metrics)->registry());
  CheckpointOptions checkpoint = options.checkpoint;
  if (!checkpoint.dir.empty() && checkpoint.rounds) {
    // With replicas each shard's backup holds its state. Under ssp and bsp a
    // round's drain would wait on workers held at the clock barrier. Neither
    // runs rounds yet; the coordinator still keeps its live state.
    if (config.replicas() >= 2) {
      spdlog::info("--replicas={}: the backups keep the state; no checkpoint rounds",
                   config.replicas());
      checkpoint.rounds = false;
    } else if (!config.consistency().empty() && config.consistency() != "asp") {
      spdlog::info("--consistency={}: no checkpoint rounds (they need asp for now)",
                   config.consistency());
      checkpoint.rounds = false;
    }
  }
  CheckpointRounds checkpoints(&state, config, checkpoint, options.rpc, (*metrics)->registry());
  if (auto s = checkpoints.Recover(); !s.ok()) {
    spdlog::error("{}", s.message());
    return 2;
  }
  if (checkpoints.enabled()) service.set_checkpoints(&checkpoints);
  state.set_metrics_port((*metrics)->port());
  int port = 0;
  auto server =
      StartGrpcServerWithMetrics(options.host, options.port, {&service}, &port, (*metrics)->rpc(),
                                 options.rpc);
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  ReportPort(options.ready_fd, port);
  checkpoints.Start();
  // Nothing to recover yet: listening with the run's facts computed is ready.
  SetServing(server->get(), true);
  spdlog::info("listening on {}:{}; expecting {} servers; {} epochs of {} data shards; "
               "consistency {}",
               options.host, port, options.expected_servers, options.lease.epochs,
               options.lease.data_shards, config.consistency().empty() ? "asp" : config.consistency());
  if ((*metrics)->port() > 0) {
    spdlog::info("metrics on http://{}:{}/metrics", options.host, (*metrics)->port());
  }

  int code = 0;
  while (!shutdown.WaitFor(absl::Milliseconds(100))) {
    if (!options.exit_when_done || !state.done()) continue;
    spdlog::info("all epochs done");
    if (!options.model_out.empty()) {
      rpc::ShardMapResponse map = state.GetShardMap();
      if (auto s = SaveModel(map.map(), config, options.model_out, options.rpc); !s.ok()) {
        spdlog::error("saving the model: {}", s.message());
        code = 1;
      } else {
        spdlog::info("model written to {}", options.model_out);
      }
    }
    service.TellEveryoneToStop();
    shutdown.WaitFor(options.linger);
    break;
  }
  if (shutdown.signal_number() != 0) spdlog::info("signal {}: shutting down", shutdown.signal_number());
  SetServing(server->get(), false);
  (*server)->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  (*server)->Wait();
  // After the last request: the state written is the state answered.
  checkpoints.Stop();
  return code;
}

}  // namespace psrec
