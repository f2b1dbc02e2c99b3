#include "cli/best_epoch.h"

namespace psrec {

double BestEpochTracker::Metric(const EvalResult& r) const {
  return task_ == "ranking" ? r.hr_at_10 : r.rmse;
}

const char* BestEpochTracker::metric_name() const { return task_ == "ranking" ? "HR@10" : "RMSE"; }

bool BestEpochTracker::Record(uint32_t epoch, const EvalResult& validation) {
  last_epoch_ = epoch;
  const double m = Metric(validation);
  const bool better =
      !best_epoch_.has_value() || (task_ == "ranking" ? m > best_metric_ : m < best_metric_);
  if (!better) return false;
  best_epoch_ = epoch;
  best_metric_ = m;
  return true;
}

bool BestEpochTracker::PatienceExhausted() const {
  return patience_ > 0 && best_epoch_.has_value() && last_epoch_ - *best_epoch_ >= patience_;
}

}  // namespace psrec
