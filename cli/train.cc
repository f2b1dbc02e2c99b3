#include "cli/train.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "common/logging.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/best_epoch.h"
#include "cli/supervised_cluster.h"
#include "cli/model_snapshot.h"
#include "cli/test_set.h"
#include "cli/train_in_process.h"
#include "cli/training_report.h"
#include "common/data_reader.h"
#include "common/file_util.h"
#include "common/lr_schedule.h"
#include "common/rpc_util.h"
#include "common/training_data.h"
#include "common/synthetic.h"
#include "coordinator/coordinator_client.h"
#include "worker/grpc_ps_client.h"
#include "worker/implicit_fold.h"
#include "worker/model_manifest.h"
#include "worker/neumf_init.h"

namespace psrec {
namespace {

struct EpochRecord {
  rpc::EpochSummary summary;
  EvalResult eval;  // on the test set
  bool evaluated = false;
  EvalResult validation;
  bool validated = false;
};

// How the run ended, for the summary and the metrics file.
struct RunOutcome {
  const EpochRecord* reported = nullptr;  // the best epoch with validation, else the last
  bool stopped_early = false;
};

// Writes psrec's synthetic data set into `dir` in the same layout as real
// files and points the options at it.
absl::Status WriteSyntheticDefault(const std::string& dir, TrainOptions* o) {
  SyntheticOptions so;
  so.implicit = o->config.task() == "ranking";
  so.seed = o->config.seed();
  SyntheticData data = GenerateSynthetic(so);
  const std::string train = dir + "/train.rating";
  if (auto s = WriteInteractions(train, data.train); !s.ok()) return s;
  o->config.set_train_path(train);
  if (so.implicit) {
    o->test_negatives_path = dir + "/test.negative";
    if (auto s = WriteNegatives(o->test_negatives_path, data.ranking); !s.ok()) return s;
  }
  o->test_path = dir + "/test.rating";
  if (auto s = WriteInteractions(o->test_path, data.test); !s.ok()) return s;
  std::printf("no --train given: using psrec's synthetic data set (%zu users, %zu items, %zu "
              "training interactions) in %s\n",
              static_cast<size_t>(so.num_users), static_cast<size_t>(so.num_items),
              data.train.size(), dir.c_str());
  return absl::OkStatus();
}

// The consistency model and what its clock barrier recorded (README
// "Consistency"), from the coordinator's last status.
std::string ConsistencyJsonFields(const rpc::RunConfig& config, const rpc::StatusResponse& s) {
  std::vector<std::string> waits;
  double total_wait = 0;
  for (const rpc::WorkerStatus& w : s.worker_status()) {
    waits.push_back(absl::StrFormat("%.4f", w.clock_wait_seconds()));
    total_wait += w.clock_wait_seconds();
  }
  std::vector<std::string> shards;
  for (const rpc::WorkerStatus& w : s.worker_status()) {
    shards.push_back(absl::StrCat(w.shards_completed()));
  }
  return absl::StrFormat(
      "  \"consistency\": \"%s\",\n  \"staleness\": %d,\n  \"max_clock_ahead\": %d,\n"
      "  \"clock_wait_seconds\": %.4f,\n  \"worker_clock_wait_seconds\": [%s],\n"
      "  \"sync_every\": %d,\n  \"worker_shards_completed\": [%s],\n",
      config.consistency().empty() ? "asp" : config.consistency(), config.staleness(),
      s.max_clock_ahead(), total_wait, absl::StrJoin(waits, ", "), config.sync_every(),
      absl::StrJoin(shards, ", "));
}

// Row updates the servers applied, per table name, and of them the changes
// windowed workers added (--sync_every); "{}" when a server cannot answer.
std::string ServerUpdatesJsonFields(GrpcPsClient* ps) {
  auto stats = ps->StatsAll();
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_table;
  if (stats.ok()) {
    for (const rpc::StatsResponse& server : *stats) {
      for (const rpc::TableStats& t : server.tables()) {
        by_table[t.name()].first += t.optimizer_steps();
        by_table[t.name()].second += t.delta_rows();
      }
    }
  }
  std::vector<std::string> steps, deltas;
  for (const auto& [name, counts] : by_table) {
    steps.push_back(absl::StrFormat("\"%s\": %d", name, counts.first));
    deltas.push_back(absl::StrFormat("\"%s\": %d", name, counts.second));
  }
  return absl::StrFormat("  \"server_row_updates\": {%s},\n  \"server_delta_rows\": {%s},\n",
                         absl::StrJoin(steps, ", "), absl::StrJoin(deltas, ", "));
}

std::string MetricsJson(const TrainOptions& o, const rpc::RunConfig& config,
                        const std::vector<EpochRecord>& epochs, const RunOutcome& outcome,
                        uint64_t examples, double seconds, const rpc::StatusResponse& last,
                        const std::string& server_fields) {
  const std::string& task = config.task();
  const std::string no_metrics = task == "ranking" ? "\"hr_at_10\": null, \"ndcg_at_10\": null"
                                                   : "\"rmse\": null, \"mae\": null";
  auto eval_fields = [&](const EpochRecord& r) {
    return r.evaluated ? MetricsJsonFields(task, r.eval) : no_metrics;
  };
  auto validation_field = [&](const EpochRecord& r) {
    if (!r.validated) return std::string("\"validation\": null");
    return absl::StrCat("\"validation\": {", MetricsJsonFields(task, r.validation), "}");
  };
  std::vector<std::string> history;
  for (const EpochRecord& r : epochs) {
    history.push_back(absl::StrFormat(
        "    {\"epoch\": %d, \"train_loss\": %.6f, \"train_examples\": %d, "
        "\"train_seconds\": %.4f, %s, %s}",
        r.summary.epoch() + 1, r.summary.loss(), r.summary.examples(), r.summary.seconds(),
        eval_fields(r), validation_field(r)));
  }
  const EpochRecord* final_epoch = outcome.reported;
  const bool best = final_epoch != nullptr && final_epoch->validated;
  // Test metrics first: readers that take the first "hr_at_10" get the test's.
  const std::string selection = absl::StrFormat(
      "  \"best_epoch\": %s,\n  \"stopped_early\": %s,\n  %s,\n",
      best ? absl::StrCat(final_epoch->summary.epoch() + 1) : "null",
      outcome.stopped_early ? "true" : "false",
      final_epoch ? validation_field(*final_epoch) : "\"validation\": null");
  return absl::StrFormat(
      "{\n  \"task\": \"%s\",\n  \"model\": \"%s\",\n  \"epochs\": %d,\n  %s,\n%s"
      "  \"train_loss\": %.6f,\n  \"train_examples\": %d,\n  \"train_seconds\": %.4f,\n"
      "  \"examples_per_second\": %.1f,\n  \"servers\": %d,\n  \"workers\": %d,\n"
      "  \"dim\": %d,\n  \"batch_size\": %d,\n  \"lr\": %g,\n  \"optimizer\": \"%s\",\n"
      "  \"l2\": %g,\n  \"negatives\": %d,\n  \"seed\": %d,\n  \"average_epochs\": %d,\n"
      "  \"recency_weight\": %g,\n  \"recency_halflife\": %g,\n"
      "  \"train\": \"%s\",\n%s%s"
      "  \"history\": [\n%s\n  ]\n}\n",
      task, config.model(), epochs.size(),
      final_epoch ? eval_fields(*final_epoch) : no_metrics, selection,
      final_epoch ? final_epoch->summary.loss() : 0.0, examples, seconds,
      seconds > 0 ? examples / seconds : 0.0, o.servers, o.workers, config.dim(),
      config.batch_size(), config.lr(), config.optimizer(), config.l2(), config.negatives(),
      config.seed(), config.average_epochs(), config.recency_weight(),
      config.recency_halflife(), config.train_path(),
      ConsistencyJsonFields(config, last), server_fields,
      absl::StrJoin(history, ",\n"));
}

std::vector<std::pair<std::string, double>> NamedMetrics(const std::string& task,
                                                        const EvalResult& r) {
  if (task == "ranking") return {{"HR@10", r.hr_at_10}, {"NDCG@10", r.ndcg_at_10}};
  return {{"RMSE", r.rmse}, {"MAE", r.mae}};
}

// Rows and bytes of every server, asked at the end of the run.
std::vector<ReportServer> ServerRows(const rpc::ShardMap& map, const RpcOptions& rpc) {
  std::vector<ReportServer> out;
  for (int i = 0; i < map.server_addresses_size(); ++i) {
    ReportServer r;
    r.index = static_cast<uint32_t>(i);
    r.address = map.server_addresses(i);
    auto stub = rpc::ParameterServer::NewStub(MakeChannel(r.address, rpc));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    rpc::StatsResponse stats;
    if (stub->Stats(&ctx, rpc::StatsRequest(), &stats).ok()) {
      for (const rpc::TableStats& t : stats.tables()) {
        r.rows += t.rows();
        r.bytes += t.bytes();
      }
    }
    out.push_back(r);
  }
  return out;
}

// "asp", "ssp (staleness 3)" or "bsp".
std::string DescribeConsistency(const rpc::RunConfig& config) {
  if (config.consistency() == "ssp") return absl::StrFormat("ssp (staleness %d)", config.staleness());
  return config.consistency().empty() ? "asp" : config.consistency();
}

TrainingReport BuildReport(const TrainOptions& o, const rpc::RunConfig& config,
                           const std::vector<EpochRecord>& epochs, const RunOutcome& outcome,
                           uint64_t examples, double seconds, std::vector<ReportServer> servers) {
  TrainingReport r;
  r.title = absl::StrFormat("%s (%s) on %s, %d servers, %d workers", config.model(),
                            config.task(), config.train_path(), o.servers, o.workers);
  r.config = {{"model", config.model()},
              {"task", config.task()},
              {"train", config.train_path()},
              {"test", o.test_path.empty() ? o.test_negatives_path : o.test_path},
              {"epochs", absl::StrCat(config.epochs())},
              {"dim", absl::StrCat(config.dim())},
              {"batch_size", absl::StrCat(config.batch_size())},
              {"optimizer", config.optimizer()},
              {"lr", absl::StrCat(config.lr())},
              {"lr_schedule", DescribeLrSchedule(LrScheduleFromConfig(config))},
              {"l2", absl::StrCat(config.l2())},
              {"loss", config.loss()},
              {"negatives", absl::StrCat(config.negatives())},
              {"validation", config.validation()},
              {"data_shards", absl::StrCat(config.data_shards())},
              {"consistency", DescribeConsistency(config)},
              {"sync_every", config.sync_every() > 0
                                 ? absl::StrFormat("%d ratings per window", config.sync_every())
                                 : std::string("off (every batch)")},
              {"servers", absl::StrCat(o.servers)},
              {"workers", absl::StrCat(o.workers)},
              {"seed", absl::StrCat(config.seed())}};
  const EpochRecord* reported = outcome.reported;
  r.final_figures.emplace_back("epochs trained", absl::StrCat(epochs.size()));
  if (reported != nullptr) {
    r.final_figures.emplace_back("reported epoch", absl::StrCat(reported->summary.epoch() + 1));
    r.final_figures.emplace_back("training loss", absl::StrFormat("%.4f", reported->summary.loss()));
    if (reported->evaluated) {
      for (const auto& [n, v] : NamedMetrics(config.task(), reported->eval)) {
        r.final_figures.emplace_back("test " + n, absl::StrFormat("%.4f", v));
      }
    }
    if (reported->validated) {
      for (const auto& [n, v] : NamedMetrics(config.task(), reported->validation)) {
        r.final_figures.emplace_back("validation " + n, absl::StrFormat("%.4f", v));
      }
    }
  }
  r.final_figures.emplace_back("examples", absl::StrCat(examples));
  r.final_figures.emplace_back("training seconds", absl::StrFormat("%.2f", seconds));
  r.final_figures.emplace_back("examples/s",
                               absl::StrFormat("%.0f", seconds > 0 ? examples / seconds : 0.0));
  if (outcome.stopped_early) r.final_figures.emplace_back("stopped early", "yes");
  for (const EpochRecord& e : epochs) {
    ReportEpoch re;
    re.epoch = e.summary.epoch() + 1;
    re.loss = e.summary.loss();
    re.seconds = e.summary.seconds();
    re.examples = e.summary.examples();
    if (e.evaluated) re.test = NamedMetrics(config.task(), e.eval);
    if (e.validated) re.validation = NamedMetrics(config.task(), e.validation);
    r.epochs.push_back(std::move(re));
  }
  r.servers = std::move(servers);
  return r;
}

// "every example at least once" per epoch, as the coordinator counted it.
void PrintCoverage(CoordinatorClient& coordinator) {
  auto status = coordinator.GetStatus();
  if (!status.ok()) return;
  for (const rpc::EpochCoverage& c : status->coverage()) {
    std::printf("coverage epoch %u: %llu of %llu examples at least once%s, %llu re-done, %u "
                "leases taken back\n",
                c.epoch() + 1, static_cast<unsigned long long>(c.examples_once()),
                static_cast<unsigned long long>(c.expected_examples()),
                c.complete() && c.examples_once() == c.expected_examples() ? " (all)" : "",
                static_cast<unsigned long long>(c.duplicate_examples()), c.releases());
  }
  if (status->checkpoint().enabled()) {
    std::printf("checkpoints: last complete round %llu, %llu failed%s%s\n",
                static_cast<unsigned long long>(status->checkpoint().last_complete_round()),
                static_cast<unsigned long long>(status->checkpoint().rounds_failed()),
                status->checkpoint().last_error().empty() ? "" : ": ",
                status->checkpoint().last_error().c_str());
  }
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "psrec train: %s\n", std::string(s.message()).c_str());
  return 1;
}

// Removes what WriteSyntheticDefault wrote into a run directory we made.
// The run directory psrec made for itself: synthetic data, checkpoints,
// children.txt.
void RemoveRunDir(const std::string& run_dir) {
  std::error_code ignored;
  std::filesystem::remove_all(run_dir, ignored);
}

}  // namespace

int RunTrain(TrainOptions o, const std::vector<std::string>& user_flags) {
  // The run directory: synthetic data, checkpoints, children.txt. A resumed
  // run continues in the stopped run's.
  std::string run_dir = o.resume_dir.empty() ? o.run_dir : o.resume_dir;
  bool own_run_dir = false;
  if (run_dir.empty()) {
    char tmpl[] = "/tmp/psrec-run-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return Fail(ErrnoToStatus(errno, "mkdtemp"));
    run_dir = tmpl;
    own_run_dir = true;
  } else if (auto s = MakeDirs(run_dir); !s.ok()) {
    return Fail(s);
  }
  // Always there: the coordinator keeps its live state in it (a restarted
  // coordinator recovers), whether or not rounds run.
  const std::string checkpoint_dir =
      o.checkpoint_dir.empty() ? run_dir + "/checkpoints" : o.checkpoint_dir;
  if (!checkpoint_dir.empty() && o.resume_dir.empty() &&
      FileExists(checkpoint_dir + "/coordinator/state.pscs")) {
    return Fail(absl::FailedPreconditionError(absl::StrFormat(
        "%s holds the checkpoints of a run that did not finish: continue it with --resume=%s, "
        "or remove the directory to start afresh",
        checkpoint_dir, run_dir)));
  }
  if (o.checkpoint_rounds) {
    std::printf("checkpoints in %s; if this run stops, psrec train --resume=%s (same flags) "
                "continues it\n",
                checkpoint_dir.c_str(), run_dir.c_str());
  }
  if (o.config.train_path().empty()) {
    // Deterministic from the seed: a resumed run writes the same files.
    if (auto s = WriteSyntheticDefault(run_dir, &o); !s.ok()) return Fail(s);
  } else if (!FileExists(o.config.train_path())) {
    return Fail(absl::NotFoundError(absl::StrCat(o.config.train_path(), ": no such file (--train)")));
  }
  // Test data is read before anything starts: a bad test file fails fast.
  auto test = LoadTestSet(o.config, o.test_path, o.test_negatives_path);
  if (!test.ok()) return Fail(test.status());
  if (o.servers == 0) {
    const int code = RunTrainInProcess(o, *test);
    if (own_run_dir) RemoveRunDir(run_dir);
    return code;
  }

  SupervisedCluster cluster(o.max_restarts, run_dir + "/children.txt");
  std::vector<std::string> coord_args = {"coordinator"};
  coord_args.insert(coord_args.end(), user_flags.begin(), user_flags.end());
  coord_args.push_back("--train=" + o.config.train_path());
  coord_args.push_back("--gated");
  coord_args.push_back("--host=127.0.0.1");
  coord_args.push_back("--checkpoint_dir=" + checkpoint_dir);
  // A restarted coordinator recovers its live state; only the first start
  // of a resumed run begins at the last complete round.
  // With replicas its state (who leads which shard since a promotion) is not
  // saved yet: a dead coordinator stops the run.
  std::vector<std::string> coord_restart_args;
  if (o.config.replicas() < 2) {
    coord_restart_args = coord_args;
    coord_restart_args.push_back("--resume=");
  }
  coord_args.push_back("--resume=" + (o.resume_dir.empty() ? "" : checkpoint_dir));
  coord_args.push_back("--port=0");
  // The coordinator reads the whole training file before it listens.
  auto coord_port = cluster.Start("coordinator", coord_args, coord_restart_args, true,
                                  absl::Minutes(30), false);
  if (!coord_port.ok()) return Fail(coord_port.status());
  const std::string coord_addr = absl::StrCat("127.0.0.1:", *coord_port);
  const std::string level = "--log_level=" + o.log_level;
  // The coordinator has the user's --metrics_port; several processes cannot
  // share one port, so servers and workers get OS-chosen ones (or none).
  const std::string metrics_port = o.metrics_port < 0 ? "--metrics_port=-1" : "--metrics_port=0";
  const std::string timeout =
      absl::StrCat("--timeout_seconds=", absl::ToInt64Seconds(o.startup_timeout));
  // TLS, token and limits: the same for every process of the run.
  const std::vector<std::string> rpc_flags = RpcOptionsAsFlags(o.rpc);
  std::vector<int> server_ports;
  for (uint32_t s = 0; s < o.servers; ++s) {
    std::vector<std::string> args = {"server",        "--coordinator=" + coord_addr,
                                     "--host=127.0.0.1", absl::StrCat("--shard_index=", s),
                                     level,           timeout,
                                     metrics_port,    "--port=0"};
    args.insert(args.end(), rpc_flags.begin(), rpc_flags.end());
    auto port = cluster.Start(absl::StrCat("server ", s), args, args, true, o.startup_timeout,
                              false);
    if (!port.ok()) return Fail(port.status());
    server_ports.push_back(*port);
  }
  for (uint32_t w = 0; w < o.workers; ++w) {
    std::vector<std::string> args = {"worker", "--coordinator=" + coord_addr,
                                     absl::StrCat("--worker_index=", w), level, timeout,
                                     metrics_port};
    args.insert(args.end(), rpc_flags.begin(), rpc_flags.end());
    auto started = cluster.Start(absl::StrCat("worker ", w), args, args, false,
                                 o.startup_timeout, true);
    if (!started.ok()) return Fail(started.status());
  }
  spdlog::info("cluster up: coordinator {}, servers on ports {}, {} workers", coord_addr,
               absl::StrJoin(server_ports, ","), o.workers);
  cluster.Supervise();

  CoordinatorClient coordinator(coord_addr, o.rpc, o.startup_timeout);
  auto reg = coordinator.Register(rpc::ROLE_DRIVER, "");
  if (!reg.ok()) return Fail(reg.status());
  const rpc::RunConfig config = reg->config();
  auto map = coordinator.WaitForShardMap(o.startup_timeout);
  if (!map.ok()) return Fail(map.status());
  auto ps = GrpcPsClient::Create(*map, TablesFromConfig(config), o.rpc, o.startup_timeout);
  if (!ps.ok()) return Fail(ps.status());
  (*ps)->set_map_source([&coordinator] { return coordinator.WaitForShardMap(absl::Seconds(5)); });
  auto model = Model::FromConfig(config);
  if (!model.ok()) return Fail(model.status());
  // Implicit feedback: N(u) of the same training part the workers train on,
  // for evaluation and for folding the term into the saved user rows.
  std::unique_ptr<ImplicitFeedback> implicit;
  if (config.implicit_feedback()) {
    auto data = ReadTrainingData(config);
    if (!data.ok()) return Fail(data.status());
    implicit = std::make_unique<ImplicitFeedback>(data->train);
  }
  Evaluator evaluator(model->get(), ps->get(), implicit.get());
  // The same split the coordinator and the workers made (from the config
  // they were all handed), read while epoch 1 trains.
  auto validation = LoadValidationSet(config);
  if (!validation.ok()) return Fail(validation.status());
  const bool validate = ValidationEnabled(config);
  BestEpochTracker tracker(config.task(), config.early_stopping());
  BestModelSnapshot snapshot(o.model_out);

  std::printf("training %s (%s) on %s: %d epochs, dim %d, batch %d, %s lr %g (%s), %d servers, "
              "%d workers, %s\n",
              config.model().c_str(), config.task().c_str(), config.train_path().c_str(),
              config.epochs(), config.dim(), config.batch_size(), config.optimizer().c_str(),
              config.lr(), DescribeLrSchedule(LrScheduleFromConfig(config)).c_str(), o.servers,
              o.workers, DescribeConsistency(config).c_str());
  if (config.recency_weight() > 0) {
    std::printf("recency weighting: each user's latest interaction counts %g x, halving every "
                "%g interactions back (--recency_weight=0: off)\n",
                1 + config.recency_weight(), config.recency_halflife());
  }
  if (validate) {
    std::string patience;
    if (config.early_stopping() > 0) {
      patience = absl::StrFormat("; early stopping after %d epochs without improvement",
                                 config.early_stopping());
    }
    std::printf("validation: %zu %s held out of training%s\n",
                validation->ranking.size() + validation->ratings.size(),
                config.task() == "ranking" ? "users' latest interactions" : "ratings",
                patience.c_str());
  }
  std::fflush(stdout);
  ProgressReporter progress(stdout, o.progress, o.progress_interval);
  std::vector<EpochRecord> epochs;
  RunOutcome outcome;
  uint64_t examples = 0;
  double seconds = 0;
  // Epochs complete before a resume were evaluated by the stopped run.
  size_t resumed_epochs = 0;
  uint64_t recovered_round = 0;
  if (!o.resume_dir.empty()) {
    auto status = coordinator.GetStatus();
    if (!status.ok()) return Fail(status.status());
    while (resumed_epochs < static_cast<size_t>(status->history_size()) &&
           status->history(static_cast<int>(resumed_epochs)).complete()) {
      ++resumed_epochs;
    }
    recovered_round = status->checkpoint().recovered_round();
    std::printf("resumed from checkpoint round %llu: %zu epochs already trained\n",
                static_cast<unsigned long long>(recovered_round), resumed_epochs);
  }
  // Before the first epoch opens; a restored checkpoint already holds it.
  if ((!o.init_gmf.empty() || !o.init_mlp.empty()) && recovered_round == 0) {
    auto counts = InitNeuMfFromSavedModels(**model, {o.init_gmf, o.init_mlp}, ps->get());
    if (!counts.ok()) return Fail(counts.status());
    std::printf("initialised from%s%s: %llu user and %llu item rows\n",
                o.init_gmf.empty() ? "" : (" GMF " + o.init_gmf).c_str(),
                o.init_mlp.empty() ? "" : (" MLP " + o.init_mlp).c_str(),
                static_cast<unsigned long long>(counts->users),
                static_cast<unsigned long long>(counts->items));
  }
  for (;;) {
    if (auto s = cluster.Health(); !s.ok()) return Fail(s);
    auto status = coordinator.GetStatus();
    if (!status.ok()) return Fail(status.status());
    const size_t next = epochs.size();
    // A restarted coordinator may have lost the newest gate: say it again.
    if (!outcome.stopped_early && next < status->epochs() && status->open_epochs() < next + 1) {
      if (auto s = coordinator.Gate(static_cast<uint32_t>(next + 1), false); !s.ok()) {
        return Fail(s);
      }
    }
    if (next < resumed_epochs) {
      EpochRecord rec;
      rec.summary = status->history(static_cast<int>(next));
      examples += rec.summary.examples();
      seconds += rec.summary.seconds();
      std::printf("epoch %3d/%d  loss %.4f  (trained before the resume)\n",
                  rec.summary.epoch() + 1, config.epochs(), rec.summary.loss());
      epochs.push_back(rec);
      continue;
    }
    if (next < static_cast<size_t>(status->history_size()) &&
        status->history(static_cast<int>(next)).complete()) {
      progress.Clear();
      EpochRecord rec;
      rec.summary = status->history(static_cast<int>(next));
      examples += rec.summary.examples();
      seconds += rec.summary.seconds();
      std::string line = absl::StrFormat(
          "epoch %3d/%d  loss %.4f  %7.0f ex/s  %.2fs", rec.summary.epoch() + 1, config.epochs(),
          rec.summary.loss(),
          rec.summary.seconds() > 0 ? rec.summary.examples() / rec.summary.seconds() : 0.0,
          rec.summary.seconds());
      if (!test->empty()) {
        auto r = EvaluateTestSet(evaluator, *test, config);
        if (!r.ok()) return Fail(r.status());
        rec.eval = *r;
        rec.evaluated = true;
        absl::StrAppend(&line, "  ", FormatMetrics(config.task(), *r));
      }
      if (validate) {
        auto v = EvaluateTestSet(evaluator, *validation, config);
        if (!v.ok()) return Fail(v.status());
        rec.validation = *v;
        rec.validated = true;
        absl::StrAppend(&line, "  | validation ", FormatMetrics(config.task(), *v));
        // The gate holds the next epoch back, so the servers are quiet: the
        // snapshot is exactly this epoch's parameters.
        if (tracker.Record(rec.summary.epoch(), *v)) {
          if (auto s = snapshot.Save(**ps); !s.ok()) return Fail(s);
          absl::StrAppend(&line, "  (best)");
        }
      }
      // Tail averaging: a snapshot at the end of each of the last N epochs,
      // while the gate holds the workers back.
      if (rec.summary.epoch() + config.average_epochs() >= config.epochs()) {
        auto taken = (*ps)->AverageAll(rpc::SAVE_AVERAGE_SNAPSHOT);
        if (!taken.ok()) return Fail(taken.status());
      }
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      epochs.push_back(rec);
      if (tracker.PatienceExhausted() && epochs.size() < config.epochs()) {
        // Workers get DONE at their next lease request and exit cleanly.
        if (auto s = coordinator.Gate(static_cast<uint32_t>(epochs.size()), true); !s.ok()) {
          return Fail(s);
        }
        outcome.stopped_early = true;
        std::printf("early stopping: validation %s did not improve for %d epochs\n",
                    tracker.metric_name(), config.early_stopping());
        break;
      }
      if (auto s = coordinator.Gate(static_cast<uint32_t>(epochs.size() + 1), false); !s.ok()) {
        return Fail(s);
      }
      continue;
    }
    if (status->done() && epochs.size() >= status->epochs()) break;
    progress.Update(*status, absl::Now());
    absl::SleepFor(absl::Milliseconds(20));
  }

  progress.Clear();
  // The mean of the last epochs' parameters replaces the live ones, so the
  // final metrics, --model_out, eval and recommend all see the same model.
  EpochRecord averaged;
  if (config.average_epochs() > 0 && !epochs.empty()) {
    auto n = (*ps)->AverageAll(rpc::SAVE_AVERAGE_APPLY);
    if (!n.ok()) return Fail(n.status());
    if (*n != config.average_epochs()) {
      spdlog::warn("the model is the mean of {} epoch ends, not --average_epochs={} (a resumed "
                   "run or a restarted server misses the snapshots taken before)",
                   *n, config.average_epochs());
    }
    averaged = epochs.back();
    if (averaged.evaluated) {
      auto r = EvaluateTestSet(evaluator, *test, config);
      if (!r.ok()) return Fail(r.status());
      averaged.eval = *r;
    }
    if (*n > 0) {
      std::printf("model: the mean of the parameters at the ends of epochs %d-%zu\n",
                  static_cast<int>(epochs.size()) - static_cast<int>(*n) + 1, epochs.size());
    }
  }
  // With validation the run's result is its best epoch, chosen without
  // looking at the test set; otherwise the last epoch (or the mean of the
  // last ones).
  if (tracker.best_epoch().has_value()) {
    outcome.reported = &epochs[*tracker.best_epoch()];
  } else if (config.average_epochs() > 0 && !epochs.empty()) {
    outcome.reported = &averaged;
  } else if (!epochs.empty()) {
    outcome.reported = &epochs.back();
  }
  const EpochRecord* final_epoch = outcome.reported;
  if (final_epoch && final_epoch->validated) {
    std::printf("best epoch %d of %zu by validation %s: %s\n", final_epoch->summary.epoch() + 1,
                epochs.size(), tracker.metric_name(),
                FormatMetrics(config.task(), final_epoch->validation).c_str());
  }
  if (final_epoch && final_epoch->evaluated) {
    std::printf("final (epoch %d%s): %s  (cold test users %llu, items %llu)\n",
                final_epoch->summary.epoch() + 1,
                final_epoch == &averaged ? ", averaged parameters" : "",
                FormatMetrics(config.task(), final_epoch->eval).c_str(),
                static_cast<unsigned long long>(final_epoch->eval.cold_users),
                static_cast<unsigned long long>(final_epoch->eval.cold_items));
  }
  std::printf("trained on %llu examples in %.2fs: %.0f examples/s\n",
              static_cast<unsigned long long>(examples), seconds,
              seconds > 0 ? examples / seconds : 0.0);
  if (!o.model_out.empty() && validate) {
    if (auto s = snapshot.Publish({config, o.servers}); !s.ok()) return Fail(s);
    if (implicit) {
      if (auto s = FoldImplicitFeedback(o.model_out, *implicit); !s.ok()) return Fail(s);
    }
    std::printf("model of epoch %d written to %s\n", final_epoch->summary.epoch() + 1,
                o.model_out.c_str());
  } else if (!o.model_out.empty()) {
    if (auto s = (*ps)->SaveAll(o.model_out); !s.ok()) return Fail(s);
    if (auto s = WriteModelManifest(o.model_out, {config, o.servers}); !s.ok()) return Fail(s);
    if (implicit) {
      if (auto s = FoldImplicitFeedback(o.model_out, *implicit); !s.ok()) return Fail(s);
    }
    std::printf("model written to %s\n", o.model_out.c_str());
  }
  if (!o.metrics_json.empty()) {
    // The barrier's figures of the whole run (asp: zeros).
    auto last = coordinator.GetStatus();
    if (!last.ok()) return Fail(last.status());
    auto s = WriteFileAtomically(o.metrics_json,
                                 MetricsJson(o, config, epochs, outcome, examples, seconds, *last,
                                             ServerUpdatesJsonFields(ps->get())));
    if (!s.ok()) return Fail(s);
  }
  if (!o.report_dir.empty()) {
    TrainingReport report =
        BuildReport(o, config, epochs, outcome, examples, seconds, ServerRows(*map, o.rpc));
    if (auto s = WriteTrainingReport(o.report_dir, report); !s.ok()) return Fail(s);
    std::printf("report written to %s/report.html\n", o.report_dir.c_str());
  }
  PrintCoverage(coordinator);
  if (cluster.restarts() > 0) {
    std::printf("restarted %u processes killed by a signal\n", cluster.restarts());
  }
  cluster.StopAll();
  // A finished run needs neither its checkpoints nor its scratch data.
  if (own_run_dir) {
    RemoveRunDir(run_dir);
  } else if (!checkpoint_dir.empty() && o.checkpoint_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(checkpoint_dir, ignored);
  }
  return 0;
}

}  // namespace psrec
