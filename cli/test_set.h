// Held-out data of a run and its evaluation, shared by `psrec train` (after
// every epoch) and `psrec eval` (on a saved model): one way to evaluate.
#ifndef PSREC_CLI_TEST_SET_H_
#define PSREC_CLI_TEST_SET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dataset.h"
#include "proto/psrec.pb.h"
#include "worker/evaluator.h"

namespace psrec {

struct TestSet {
  std::string task;
  std::vector<RankingCase> ranking;  // task == ranking
  std::vector<Interaction> ratings;  // task == rating
  bool empty() const { return ranking.empty() && ratings.empty(); }
};

// Reads the test files the task needs (none is fine for rating).
absl::StatusOr<TestSet> LoadTestSet(const rpc::RunConfig& config, const std::string& test_path,
                                    const std::string& negatives_path);

// The validation set carved from the run's training file (empty without
// --validation=auto): the same split the coordinator and workers make.
// InvalidArgument when validation is on but the data leaves nothing to
// validate on.
absl::StatusOr<TestSet> LoadValidationSet(const rpc::RunConfig& config);

absl::StatusOr<EvalResult> EvaluateTestSet(Evaluator& evaluator, const TestSet& test,
                                           const rpc::RunConfig& config);

// "HR@10 0.6712  NDCG@10 0.3921" or "RMSE 0.9123  MAE 0.7192".
std::string FormatMetrics(const std::string& task, const EvalResult& r);

// Metrics of one epoch (or of an evaluation) as JSON members, no braces.
std::string MetricsJsonFields(const std::string& task, const EvalResult& r);

}  // namespace psrec

#endif  // PSREC_CLI_TEST_SET_H_
