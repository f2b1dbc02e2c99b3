#include "cli/test_set.h"

#include "absl/strings/str_format.h"
#include "common/data_reader.h"
#include "common/rpc_util.h"
#include "common/training_data.h"

namespace psrec {

absl::StatusOr<TestSet> LoadTestSet(const rpc::RunConfig& config, const std::string& test_path,
                                    const std::string& negatives_path) {
  TestSet t;
  t.task = config.task();
  if (config.task() == "ranking") {
    if (negatives_path.empty()) return t;
    auto cases = ReadNegatives(negatives_path);
    if (!cases.ok()) return cases.status();
    t.ranking = std::move(*cases);
    return t;
  }
  if (test_path.empty()) return t;
  ReaderOptions reader = ReaderOptionsFromConfig(config);
  auto ratings = ReadInteractions(test_path, reader);
  if (!ratings.ok()) return ratings.status();
  t.ratings = std::move(*ratings);
  return t;
}

absl::StatusOr<TestSet> LoadValidationSet(const rpc::RunConfig& config) {
  TestSet t;
  t.task = config.task();
  if (!ValidationEnabled(config)) return t;
  auto split = ReadTrainingData(config);
  if (!split.ok()) return split.status();
  if (config.task() == "ranking") {
    t.ranking = std::move(split->cases);
  } else {
    t.ratings = std::move(split->validation);
  }
  if (t.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--validation=auto: %s leaves nothing to validate on (%s)", config.train_path(),
        config.task() == "ranking" ? "no user has 2 or more interactions"
                                   : "raise --validation_fraction"));
  }
  return t;
}

absl::StatusOr<EvalResult> EvaluateTestSet(Evaluator& evaluator, const TestSet& test,
                                           const rpc::RunConfig& config) {
  if (test.task == "ranking") return evaluator.Ranking(test.ranking);
  return evaluator.Rating(test.ratings, config.min_rating(), config.max_rating());
}

std::string FormatMetrics(const std::string& task, const EvalResult& r) {
  if (task == "ranking") return absl::StrFormat("HR@10 %.4f  NDCG@10 %.4f", r.hr_at_10, r.ndcg_at_10);
  return absl::StrFormat("RMSE %.4f  MAE %.4f", r.rmse, r.mae);
}

std::string MetricsJsonFields(const std::string& task, const EvalResult& r) {
  std::string cold = absl::StrFormat("\"cold_users\": %d, \"cold_items\": %d, \"test_cases\": %d",
                                     r.cold_users, r.cold_items, r.cases);
  if (task == "ranking") {
    return absl::StrFormat("\"hr_at_10\": %.6f, \"ndcg_at_10\": %.6f, %s", r.hr_at_10,
                           r.ndcg_at_10, cold);
  }
  return absl::StrFormat("\"rmse\": %.6f, \"mae\": %.6f, %s", r.rmse, r.mae, cold);
}

}  // namespace psrec
