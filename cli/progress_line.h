// `psrec train`'s progress within an epoch, from the coordinator's status:
// one line redrawn in place on a terminal, plain periodic lines otherwise
// (CI logs, `kubectl logs`), where carriage returns would make a mess.
#ifndef PSREC_CLI_PROGRESS_LINE_H_
#define PSREC_CLI_PROGRESS_LINE_H_

#include <cstdio>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "proto/psrec.pb.h"

namespace psrec {

enum class ProgressStyle { kOff, kRedrawnLine, kPlainLines };

// What one progress line says.
struct ProgressSnapshot {
  uint32_t epoch = 0;  // 1-based
  uint32_t epochs = 0;
  double epoch_fraction = 0;          // of the current epoch, in [0, 1]
  double examples_per_second = 0;     // in the current epoch
  std::optional<double> loss;         // mean over the examples reported so far
  std::optional<double> eta_seconds;  // to the end of the last epoch's training
};

// The snapshot of the epoch being trained, or nullopt when the status holds
// no epoch in progress (before the first lease, between epochs, at the end).
std::optional<ProgressSnapshot> ProgressFromStatus(const rpc::StatusResponse& status);

// "epoch 2/20  37.5%  184321 ex/s  loss 0.3312  ETA 1m12s".
std::string FormatProgress(const ProgressSnapshot& p);

// Draws progress at most every `interval`. Not thread-safe; `out` must
// outlive it.
class ProgressReporter {
 public:
  ProgressReporter(std::FILE* out, ProgressStyle style, absl::Duration interval);

  // Draws the status's progress when the interval has passed.
  void Update(const rpc::StatusResponse& status, absl::Time now);
  // Draws `p` when the interval has passed (in-process training, which has
  // no coordinator status).
  void Show(const ProgressSnapshot& p, absl::Time now);
  // Erases a redrawn line so that a normal line can be printed; a no-op for
  // plain lines.
  void Clear();

 private:
  std::FILE* out_;
  ProgressStyle style_;
  absl::Duration interval_;
  absl::Time last_ = absl::InfinitePast();
  bool line_shown_ = false;
};

// kRedrawnLine on a terminal, kPlainLines otherwise; `mode` is the
// --progress flag: auto, line, plain or off (validated by the caller).
ProgressStyle ChooseProgressStyle(const std::string& mode, bool is_terminal);

}  // namespace psrec

#endif  // PSREC_CLI_PROGRESS_LINE_H_
