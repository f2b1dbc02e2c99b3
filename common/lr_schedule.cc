#include "common/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace psrec {

absl::StatusOr<LrScheduleKind> ParseLrScheduleKind(absl::string_view name) {
  if (name.empty() || name == "constant") return LrScheduleKind::kConstant;
  if (name == "step") return LrScheduleKind::kStep;
  if (name == "cosine") return LrScheduleKind::kCosine;
  return absl::InvalidArgumentError(
      absl::StrFormat("--lr_schedule=%s: valid: constant, step, cosine", name));
}

absl::Status ValidateLrSchedule(const LrScheduleOptions& o) {
  if (o.kind == LrScheduleKind::kStep) {
    if (o.decay_every == 0) {
      return absl::InvalidArgumentError("--lr_decay_every must be at least 1 epoch");
    }
    if (!(o.decay_rate > 0 && o.decay_rate <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--lr_decay_rate=%g: must be in (0, 1]", o.decay_rate));
    }
  }
  if (o.kind == LrScheduleKind::kCosine && !(o.min_ratio >= 0 && o.min_ratio <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--lr_min_ratio=%g: must be in [0, 1]", o.min_ratio));
  }
  if (!(o.warmup_epochs >= 0 && o.warmup_epochs <= o.epochs)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--warmup_epochs=%g: must be between 0 and --epochs (%d)", o.warmup_epochs, o.epochs));
  }
  return absl::OkStatus();
}

double LrSchedule::Multiplier(uint32_t epoch, double fraction) const {
  const LrScheduleOptions& o = options_;
  const double total = std::max<uint32_t>(1, o.epochs);
  const double t = std::clamp(epoch + std::clamp(fraction, 0.0, 1.0), 0.0, total);
  double m = 1.0;
  switch (o.kind) {
    case LrScheduleKind::kConstant:
      break;
    case LrScheduleKind::kStep:
      m = std::pow(o.decay_rate, std::floor(epoch / std::max<uint32_t>(1, o.decay_every)));
      break;
    case LrScheduleKind::kCosine:
      m = o.min_ratio + (1.0 - o.min_ratio) * 0.5 * (1.0 + std::cos(M_PI * t / total));
      break;
  }
  if (o.warmup_epochs > 0 && t < o.warmup_epochs) m *= t / o.warmup_epochs;
  return m;
}

std::string DescribeLrSchedule(const LrScheduleOptions& o) {
  std::string s;
  switch (o.kind) {
    case LrScheduleKind::kConstant:
      s = "constant";
      break;
    case LrScheduleKind::kStep:
      s = absl::StrFormat("step x%g every %d epochs", o.decay_rate, o.decay_every);
      break;
    case LrScheduleKind::kCosine:
      s = absl::StrFormat("cosine to %gx", o.min_ratio);
      break;
  }
  if (o.warmup_epochs > 0)
    absl::StrAppend(&s, absl::StrFormat(", warm-up %g epochs", o.warmup_epochs));
  return s;
}

}  // namespace psrec
