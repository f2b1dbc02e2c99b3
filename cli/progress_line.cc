#include "cli/progress_line.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace psrec {
namespace {

std::string FormatEta(double seconds) {
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

}  // namespace

std::optional<ProgressSnapshot> ProgressFromStatus(const rpc::StatusResponse& status) {
  if (status.done() || status.history_size() == 0) return std::nullopt;
  const rpc::EpochSummary& e = status.history(status.history_size() - 1);
  if (e.complete()) return std::nullopt;  // waiting for the driver's evaluation
  ProgressSnapshot p;
  p.epoch = e.epoch() + 1;
  p.epochs = status.epochs();
  const uint64_t expected = e.expected_examples();
  if (expected > 0) {
    p.epoch_fraction = std::min(1.0, static_cast<double>(e.examples_so_far()) / expected);
  } else if (e.data_shards() > 0) {
    p.epoch_fraction = static_cast<double>(e.done_shards()) / e.data_shards();
  }
  if (e.seconds() > 0) p.examples_per_second = e.examples_so_far() / e.seconds();
  if (e.examples() > 0) {
    p.loss = e.loss();
  } else if (status.history_size() > 1) {
    p.loss = status.history(status.history_size() - 2).loss();
  }
  if (p.examples_per_second > 0 && expected > 0) {
    const double left_in_epoch =
        static_cast<double>(expected) - std::min<double>(expected, e.examples_so_far());
    const double later_epochs = static_cast<double>(p.epochs - p.epoch) * expected;
    p.eta_seconds = (left_in_epoch + later_epochs) / p.examples_per_second;
  }
  return p;
}

std::string FormatProgress(const ProgressSnapshot& p) {
  std::string line = absl::StrFormat("epoch %d/%d  %5.1f%%  %7.0f ex/s", p.epoch, p.epochs,
                                     100.0 * p.epoch_fraction, p.examples_per_second);
  if (p.loss.has_value()) absl::StrAppend(&line, absl::StrFormat("  loss %.4f", *p.loss));
  if (p.eta_seconds.has_value()) absl::StrAppend(&line, "  ETA ", FormatEta(*p.eta_seconds));
  return line;
}

ProgressReporter::ProgressReporter(std::FILE* out, ProgressStyle style, absl::Duration interval)
    : out_(out), style_(style), interval_(interval) {}

void ProgressReporter::Update(const rpc::StatusResponse& status, absl::Time now) {
  if (style_ == ProgressStyle::kOff || now - last_ < interval_) return;
  const std::optional<ProgressSnapshot> p = ProgressFromStatus(status);
  if (!p.has_value()) return;
  Show(*p, now);
}

void ProgressReporter::Show(const ProgressSnapshot& p, absl::Time now) {
  if (style_ == ProgressStyle::kOff || now - last_ < interval_) return;
  last_ = now;
  const std::string line = FormatProgress(p);
  if (style_ == ProgressStyle::kRedrawnLine) {
    // \033[K clears what a longer previous line left behind.
    std::fprintf(out_, "\r%s\033[K", line.c_str());
    line_shown_ = true;
  } else {
    std::fprintf(out_, "progress: %s\n", line.c_str());
  }
  std::fflush(out_);
}

void ProgressReporter::Clear() {
  if (!line_shown_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
  line_shown_ = false;
}

ProgressStyle ChooseProgressStyle(const std::string& mode, bool is_terminal) {
  if (mode == "off") return ProgressStyle::kOff;
  if (mode == "line") return ProgressStyle::kRedrawnLine;
  if (mode == "plain") return ProgressStyle::kPlainLines;
  return is_terminal ? ProgressStyle::kRedrawnLine : ProgressStyle::kPlainLines;
}

}  // namespace psrec
