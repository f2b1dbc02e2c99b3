#include "cli/train_in_process.h"

#include <sys/resource.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/dataset.h"
#include "common/file_util.h"
#include "common/training_data.h"
#include "server/shard_state.h"
#include "worker/hogwild_mf.h"
#include "worker/local_ps_client.h"
#include "worker/model_manifest.h"
#include "worker/models.h"

namespace psrec {
namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "psrec train: %s\n", std::string(s.message()).c_str());
  return 1;
}

double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct EpochLine {
  uint32_t epoch = 0;  // 1-based
  double loss = 0, seconds = 0;
  uint64_t examples = 0;
  std::string metrics;  // JSON members of the test metrics
};

std::string MetricsJson(const TrainOptions& o, const rpc::RunConfig& c,
                        const std::vector<EpochLine>& epochs, const std::string& final_metrics,
                        uint64_t examples, double seconds, double cpu_seconds) {
  std::vector<std::string> history;
  for (const EpochLine& e : epochs) {
    history.push_back(
        absl::StrFormat("    {\"epoch\": %d, \"train_loss\": %.6f, \"train_examples\": %d, "
                        "\"train_seconds\": %.4f, %s}",
                        e.epoch, e.loss, e.examples, e.seconds, e.metrics));
  }
  return absl::StrFormat(
      "{\n  \"task\": \"%s\",\n  \"model\": \"%s\",\n  \"epochs\": %d,\n  %s,\n"
      "  \"train_loss\": %.6f,\n  \"train_examples\": %d,\n  \"train_seconds\": %.4f,\n"
      "  \"train_cpu_seconds\": %.4f,\n  \"examples_per_second\": %.1f,\n"
      "  \"servers\": 0,\n  \"workers\": %d,\n  \"dim\": %d,\n  \"batch_size\": %d,\n"
      "  \"lr\": %g,\n  \"optimizer\": \"%s\",\n  \"l2\": %g,\n  \"seed\": %d,\n"
      "  \"train\": \"%s\",\n  \"history\": [\n%s\n  ]\n}\n",
      c.task(), c.model(), epochs.size(), final_metrics, epochs.empty() ? 0.0 : epochs.back().loss,
      examples, seconds, cpu_seconds, seconds > 0 ? examples / seconds : 0.0, o.workers, c.dim(),
      c.batch_size(), c.lr(), c.optimizer(), c.l2(), c.seed(), c.train_path(),
      absl::StrJoin(history, ",\n"));
}

}  // namespace

int RunTrainInProcess(const TrainOptions& o, const TestSet& test) {
  rpc::RunConfig config = o.config;
  if (config.model() != "mf") {
    return Fail(absl::InvalidArgumentError(absl::StrFormat(
        "--servers=0 trains --model=mf only (got --model=%s); use --servers=1 or more",
        config.model())));
  }
  if (config.recency_weight() > 0) {
    return Fail(absl::InvalidArgumentError(absl::StrFormat(
        "--recency_weight=%g: --servers=0 trains unweighted (HOGWILD! MF); pass "
        "--recency_weight=0 or use servers",
        config.recency_weight())));
  }
  if (config.implicit_feedback()) {
    return Fail(absl::InvalidArgumentError(
        "--servers=0 does not support --implicit_feedback; use --servers=1 or more"));
  }
  if (config.early_stopping() > 0 || !o.report_dir.empty()) {
    return Fail(absl::InvalidArgumentError(
        "--servers=0 does not support --early_stopping or --report; use --servers=1 or more"));
  }
  const absl::Time load_start = absl::Now();
  auto data = ReadTrainingData(config);
  if (!data.ok()) return Fail(data.status());
  const DatasetFacts facts = ComputeFacts(data->train);
  config.set_global_mean(facts.global_mean);
  config.set_min_rating(facts.min_rating);
  config.set_max_rating(facts.max_rating);
  config.set_num_interactions(facts.num_interactions);
  auto shard = ShardState::Create(config, 0);
  if (!shard.ok()) return Fail(shard.status());
  auto trainer = HogwildMf::Create(shard->get(), config, data->train);
  if (!trainer.ok()) return Fail(trainer.status());
  auto model = Model::FromConfig(config);
  if (!model.ok()) return Fail(model.status());
  LocalPsClient ps(shard->get());
  Evaluator evaluator(model->get(), &ps);
  TestSet validation;
  validation.task = config.task();
  validation.ratings = std::move(data->validation);
  data->train.clear();
  data->train.shrink_to_fit();

  const int threads = static_cast<int>(o.workers);
  std::printf(
      "training mf (rating) on %s in this process: %llu ratings, %llu users, %llu items, "
      "%d epochs, dim %d, batch %d, %s lr %g, %d threads (HOGWILD!), loaded in %.1fs\n",
      config.train_path().c_str(), static_cast<unsigned long long>((*trainer)->ratings()),
      static_cast<unsigned long long>((*trainer)->users()),
      static_cast<unsigned long long>((*trainer)->items()), config.epochs(), config.dim(),
      config.batch_size(), config.optimizer().c_str(), config.lr(), threads,
      absl::ToDoubleSeconds(absl::Now() - load_start));
  std::fflush(stdout);
  ProgressReporter progress(stdout, o.progress, o.progress_interval);
  std::vector<EpochLine> epochs;
  uint64_t examples = 0;
  double seconds = 0, cpu_seconds = 0;
  std::string final_metrics = "\"rmse\": null, \"mae\": null";
  EvalResult last_eval;
  bool evaluated = false;
  for (uint32_t epoch = 0; epoch < config.epochs(); ++epoch) {
    std::atomic<uint64_t> done{0};
    HogwildEpochResult result;
    const absl::Time start = absl::Now();
    const double cpu_start = CpuSeconds();
    absl::Time end;  // taken by the training thread: not rounded up to a poll
    std::thread run([&] {
      result = (*trainer)->RunEpoch(epoch, threads, &done);
      end = absl::Now();
    });
    // Progress from the training threads' counter while they run.
    while (done.load() < (*trainer)->ratings()) {
      absl::SleepFor(absl::Milliseconds(20));
      const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
      ProgressSnapshot p;
      p.epoch = epoch + 1;
      p.epochs = config.epochs();
      const double d = static_cast<double>(done.load());
      p.epoch_fraction = d / std::max<uint64_t>(1, (*trainer)->ratings());
      p.examples_per_second = elapsed > 0 ? d / elapsed : 0;
      if (p.examples_per_second > 0) {
        const double left =
            static_cast<double>((*trainer)->ratings()) * (config.epochs() - epoch) - d;
        p.eta_seconds = left / p.examples_per_second;
      }
      if (d > 0) progress.Show(p, absl::Now());
    }
    run.join();
    const double epoch_seconds = absl::ToDoubleSeconds(end - start);
    cpu_seconds += CpuSeconds() - cpu_start;
    progress.Clear();
    EpochLine line{epoch + 1, result.examples ? result.loss_sum / result.examples : 0.0,
                   epoch_seconds, result.examples, "\"rmse\": null, \"mae\": null"};
    if (!std::isfinite(line.loss)) {
      return Fail(absl::InternalError(absl::StrFormat(
          "training diverged: loss is %g in epoch %d (lower --lr?)", line.loss, epoch + 1)));
    }
    examples += result.examples;
    seconds += epoch_seconds;
    std::string text = absl::StrFormat(
        "epoch %3d/%d  loss %.4f  %7.0f ex/s  %.2fs", epoch + 1, config.epochs(), line.loss,
        epoch_seconds > 0 ? result.examples / epoch_seconds : 0.0, epoch_seconds);
    if (!test.empty()) {
      auto r = EvaluateTestSet(evaluator, test, config);
      if (!r.ok()) return Fail(r.status());
      last_eval = *r;
      evaluated = true;
      line.metrics = MetricsJsonFields(config.task(), *r);
      final_metrics = line.metrics;
      absl::StrAppend(&text, "  ", FormatMetrics(config.task(), *r));
    }
    if (!validation.empty()) {
      auto v = EvaluateTestSet(evaluator, validation, config);
      if (!v.ok()) return Fail(v.status());
      absl::StrAppend(&text, "  | validation ", FormatMetrics(config.task(), *v));
    }
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
    epochs.push_back(line);
  }
  if (evaluated) {
    std::printf("final (epoch %d): %s  (cold test users %llu, items %llu)\n", config.epochs(),
                FormatMetrics(config.task(), last_eval).c_str(),
                static_cast<unsigned long long>(last_eval.cold_users),
                static_cast<unsigned long long>(last_eval.cold_items));
  }
  std::printf("trained on %llu examples in %.2fs: %.0f examples/s (%.0f per CPU second)\n",
              static_cast<unsigned long long>(examples), seconds,
              seconds > 0 ? examples / seconds : 0.0,
              cpu_seconds > 0 ? examples / cpu_seconds : 0.0);
  if (!o.model_out.empty()) {
    if (auto s = (*shard)->Save(o.model_out); !s.ok()) return Fail(s.status());
    if (auto s = WriteModelManifest(o.model_out, {config, 1}); !s.ok()) return Fail(s);
    std::printf("model written to %s\n", o.model_out.c_str());
  }
  if (!o.metrics_json.empty()) {
    auto s = WriteFileAtomically(o.metrics_json, MetricsJson(o, config, epochs, final_metrics,
                                                             examples, seconds, cpu_seconds));
    if (!s.ok()) return Fail(s);
  }
  return 0;
}

}  // namespace psrec
