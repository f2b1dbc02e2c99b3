// Which epoch of a run is best by its validation metric (HR@10, higher is
// better, for ranking; RMSE, lower is better, for rating) and whether early
// stopping's patience has run out. Pure bookkeeping: `psrec train` asks it
// after every epoch's validation.
#ifndef PSREC_CLI_BEST_EPOCH_H_
#define PSREC_CLI_BEST_EPOCH_H_

#include <cstdint>
#include <optional>
#include <string>

#include "worker/evaluator.h"

namespace psrec {

class BestEpochTracker {
 public:
  // `patience`: epochs without improvement that end the run; 0 = never.
  BestEpochTracker(std::string task, uint32_t patience)
      : task_(std::move(task)), patience_(patience) {}

  // Records the validation result of `epoch` (0-based, in increasing order).
  // True when it is strictly better than every earlier epoch (the first
  // epoch always is).
  bool Record(uint32_t epoch, const EvalResult& validation);

  // True once `patience` epochs in a row did not improve on the best.
  bool PatienceExhausted() const;

  std::optional<uint32_t> best_epoch() const { return best_epoch_; }
  // The metric early stopping watches, of an evaluation.
  double Metric(const EvalResult& r) const;
  // "HR@10" or "RMSE".
  const char* metric_name() const;

 private:
  std::string task_;
  uint32_t patience_;
  std::optional<uint32_t> best_epoch_;
  double best_metric_ = 0;
  uint32_t last_epoch_ = 0;
};

}  // namespace psrec

#endif  // PSREC_CLI_BEST_EPOCH_H_
