#include "common/interaction_stream.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/interaction_parser.h"
#include "common/part_files.h"
#include "common/text_source.h"

namespace psrec {
namespace {

// Whether `text` holds two complete non-blank lines: enough to plan the
// columns (PlanColumns looks at no more).
bool HasTwoCompleteLines(absl::string_view text) {
  const size_t last_newline = text.rfind('\n');
  if (last_newline == absl::string_view::npos) return false;
  LineCursor cursor(text.substr(0, last_newline + 1));
  absl::string_view line;
  return cursor.NextNonBlank(&line) && cursor.NextNonBlank(&line);
}

// Streams one file. Returns how many interactions it held; `part`: a file
// with no interactions (empty, blank or header-only) is no error.
class FileStreamer {
 public:
  FileStreamer(const ReaderOptions& options, const InteractionSink& sink,
               const StreamOptions& stream, absl::Time start, uint64_t* total)
      : options_(options), sink_(sink), stream_(stream), start_(start), total_(total) {}

  absl::StatusOr<uint64_t> Stream(const std::string& path, bool part);

 private:
  absl::Status Flush() {
    if (rows_.empty()) return absl::OkStatus();
    *total_ += rows_.size();
    absl::Status s = sink_(rows_);
    rows_.clear();
    return s;
  }
  void MaybeReport(const std::string& path, const TextSource& source);

  const ReaderOptions& options_;
  const InteractionSink& sink_;
  const StreamOptions& stream_;
  const absl::Time start_;
  uint64_t* total_;
  absl::Time last_report_ = absl::InfinitePast();
  std::vector<Interaction> rows_;
};

void FileStreamer::MaybeReport(const std::string& path, const TextSource& source) {
  const absl::Time now = absl::Now();
  if (now - start_ < stream_.progress_every || now - last_report_ < stream_.progress_every) {
    return;
  }
  last_report_ = now;
  ReadProgress p{path, *total_ + rows_.size(), source.file_offset(), source.file_size(),
                 now - start_};
  if (stream_.on_progress) {
    stream_.on_progress(p);
  } else {
    spdlog::info("{}", FormatReadProgress(p));
  }
}

absl::StatusOr<uint64_t> FileStreamer::Stream(const std::string& path, bool part) {
  auto source = TextSource::Open(path);
  if (!source.ok()) return source.status();
  const size_t block = std::max<size_t>(stream_.block_bytes, 1);
  std::string text;
  bool eof = false;
  auto read_more = [&]() -> absl::Status {
    auto n = (*source)->Read(block, &text);
    if (!n.ok()) return n.status();
    eof = *n == 0;
    return absl::OkStatus();
  };
  while (!eof && !HasTwoCompleteLines(text)) {
    if (auto s = read_more(); !s.ok()) return s;
  }
  int64_t header_line = 0;
  const absl::string_view planned =
      eof ? absl::string_view(text) : absl::string_view(text).substr(0, text.rfind('\n') + 1);
  auto plan = PlanColumns(planned, path, options_, &header_line);
  if (!plan.ok()) {
    if (part && plan.status().message() == path + ": no interactions") return 0;
    return plan.status();
  }
  if (stream_.on_estimate && !(*source)->gzip() && (*source)->file_size() > 0 && !planned.empty()) {
    const double lines = static_cast<double>(std::count(planned.begin(), planned.end(), '\n'));
    stream_.on_estimate(
        static_cast<uint64_t>(std::max(1.0, lines) * static_cast<double>((*source)->file_size()) /
                              planned.size() * 1.02));
  }
  InteractionLineParser parser(*plan, options_, path, header_line);
  rows_.clear();
  rows_.reserve(block / 16);
  const uint64_t total_before = *total_;
  int64_t line_number = 0;
  Interaction row;
  auto parse = [&](absl::string_view line) -> absl::Status {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto is_row = parser.Parse(line, ++line_number, &row);
    if (!is_row.ok()) return is_row.status();
    if (*is_row) rows_.push_back(row);
    return absl::OkStatus();
  };
  while (true) {
    size_t pos = 0;
    for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      if (auto s = parse(absl::string_view(text).substr(pos, nl - pos)); !s.ok()) return s;
    }
    if (eof) {
      if (pos < text.size()) {
        if (auto s = parse(absl::string_view(text).substr(pos)); !s.ok()) return s;
      }
      break;
    }
    text.erase(0, pos);
    if (auto s = Flush(); !s.ok()) return s;
    MaybeReport(path, **source);
    if (auto s = read_more(); !s.ok()) return s;
  }
  if (auto s = Flush(); !s.ok()) return s;
  const uint64_t count = *total_ - total_before;
  if (count == 0 && !part) return absl::InvalidArgumentError(path + ": no interactions");
  return count;
}

}  // namespace

std::string FormatReadProgress(const ReadProgress& p) {
  std::string share = p.bytes_total > 0
                          ? absl::StrFormat("%.0f%% read, ", 100.0 * p.bytes_read / p.bytes_total)
                          : absl::StrFormat("%.0f MB read, ", p.bytes_read / 1e6);
  return absl::StrFormat("%s: %s%.1fM interactions, %.0f s", p.path, share, p.interactions / 1e6,
                         absl::ToDoubleSeconds(p.elapsed));
}

absl::Status StreamInteractions(const std::string& path, const ReaderOptions& options,
                                const InteractionSink& sink, const StreamOptions& stream) {
  if (absl::Status s = ValidateReaderOptions(options); !s.ok()) return s;
  uint64_t total = 0;
  FileStreamer streamer(options, sink, stream, absl::Now(), &total);
  if (!IsDirectory(path)) {
    auto n = streamer.Stream(path, /*part=*/false);
    return n.ok() ? absl::OkStatus() : n.status();
  }
  auto parts = ListPartFiles(path);
  if (!parts.ok()) return parts.status();
  for (const std::string& part : *parts) {
    auto n = streamer.Stream(part, /*part=*/true);
    if (!n.ok()) return n.status();
  }
  if (total == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: no interactions in its %d part files", path, parts->size()));
  }
  return absl::OkStatus();
}

}  // namespace psrec
