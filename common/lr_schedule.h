// Learning-rate schedules: the multiplier of the run's base learning rate at
// a point of training progress. Pure functions of the settings and the
// progress, so every worker computes the same multiplier for the same point
// without talking to anyone.
//
// Progress t is measured in epochs: epoch index + fraction of the epoch done,
// so t runs from 0 (start of training) to `epochs` (end of the last epoch).
//   constant: 1
//   step:     decay_rate ^ floor(epoch / decay_every)  (per whole epoch)
//   cosine:   min_ratio + (1 - min_ratio) * (1 + cos(pi * t / epochs)) / 2
// Linear warm-up multiplies any of them by min(1, t / warmup_epochs), so the
// learning rate ramps from 0 to the schedule's value over the first
// warmup_epochs (which may be fractional).
#ifndef PSREC_COMMON_LR_SCHEDULE_H_
#define PSREC_COMMON_LR_SCHEDULE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace psrec {

enum class LrScheduleKind { kConstant, kStep, kCosine };

// "constant" (or ""), "step", "cosine"; InvalidArgument naming the valid ones.
absl::StatusOr<LrScheduleKind> ParseLrScheduleKind(absl::string_view name);

struct LrScheduleOptions {
  LrScheduleKind kind = LrScheduleKind::kConstant;
  uint32_t epochs = 1;         // length of the run (cosine ends here)
  uint32_t decay_every = 1;    // step: epochs between decays
  double decay_rate = 1.0;     // step: multiplier per decay
  double min_ratio = 0.0;      // cosine: multiplier at t = epochs
  double warmup_epochs = 0.0;  // 0: no warm-up
};

// InvalidArgument naming the flag (--lr_decay_every, --lr_decay_rate,
// --lr_min_ratio, --warmup_epochs) whose value makes no schedule.
absl::Status ValidateLrSchedule(const LrScheduleOptions& options);

class LrSchedule {
 public:
  // `options` should have passed ValidateLrSchedule; out-of-range progress is
  // clamped to [0, epochs].
  explicit LrSchedule(const LrScheduleOptions& options) : options_(options) {}

  // Multiplier of the base learning rate at `epoch` (0-based) with
  // `fraction` (in [0, 1]) of it done.
  double Multiplier(uint32_t epoch, double fraction) const;

  const LrScheduleOptions& options() const { return options_; }

 private:
  LrScheduleOptions options_;
};

// "cosine to 0.01x, warm-up 0.5 epochs" and the like, for logs.
std::string DescribeLrSchedule(const LrScheduleOptions& options);

}  // namespace psrec

#endif  // PSREC_COMMON_LR_SCHEDULE_H_
