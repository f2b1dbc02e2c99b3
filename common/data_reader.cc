#include "common/data_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/interaction_parser.h"
#include "common/interaction_stream.h"
#include "common/part_files.h"
#include "common/text_source.h"

namespace psrec {
namespace {

// ---- writing ---------------------------------------------------------------

// ErrnoToStatus(0, ...) is OK, so failures that left errno unset (zlib's)
// need a code of their own.
absl::Status SystemError(int error, const std::string& message) {
  if (error == 0) return absl::InternalError(message);
  return absl::ErrnoToStatus(error, message);
}

// Buffers output and lands it under `path` only on Commit(), so readers never
// see a half-written file and a failed write leaves the old file in place.
class AtomicFileWriter {
 public:
  AtomicFileWriter() = default;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter() { Abandon(); }

  absl::Status Open(const std::string& path) {
    path_ = path;
    gzip_ = absl::EndsWith(path, ".gz");
    // The temporary lives next to the target so rename() stays atomic.
    temp_path_ = path + ".tmpXXXXXX";
    fd_ = mkstemp(&temp_path_[0]);
    if (fd_ < 0) {
      return SystemError(errno, absl::StrCat(path, ": cannot create file"));
    }
    fchmod(fd_, 0644);  // mkstemp's 0600 would surprise other readers
    if (gzip_) {
      // gzclose() closes the descriptor it owns; a dup keeps fd_ for fsync.
      int gz_fd = dup(fd_);
      gz_ = gz_fd < 0 ? nullptr : gzdopen(gz_fd, "wb6");
      if (gz_ == nullptr) {
        if (gz_fd >= 0) close(gz_fd);
        return Fail("cannot start gzip stream");
      }
    }
    buffer_.reserve(kBufferSize + 4096);
    return absl::OkStatus();
  }

  std::string& buffer() { return buffer_; }

  // Call after appending to buffer(); writes out once enough has piled up.
  absl::Status MaybeFlush() {
    if (buffer_.size() < kBufferSize) return absl::OkStatus();
    return Flush();
  }

  absl::Status Commit() {
    if (absl::Status s = Flush(); !s.ok()) return s;
    if (gz_ != nullptr) {
      errno = 0;
      int rc = gzclose(gz_);
      gz_ = nullptr;
      if (rc != Z_OK) return Fail("gzip close failed");
    }
    if (fsync(fd_) != 0) return Fail("fsync failed");
    if (close(fd_) != 0) {
      fd_ = -1;
      return Fail("close failed");
    }
    fd_ = -1;
    if (rename(temp_path_.c_str(), path_.c_str()) != 0) {
      return Fail("rename failed");
    }
    temp_path_.clear();
    return absl::OkStatus();
  }

 private:
  static constexpr size_t kBufferSize = 1 << 20;

  absl::Status Flush() {
    if (buffer_.empty()) return absl::OkStatus();
    if (gz_ != nullptr) {
      errno = 0;  // zlib may fail without setting it
      if (gzwrite(gz_, buffer_.data(), static_cast<unsigned>(buffer_.size())) !=
          static_cast<int>(buffer_.size())) {
        return Fail("gzip write failed");
      }
    } else {
      size_t done = 0;
      while (done < buffer_.size()) {
        ssize_t n = write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Fail("write failed");
        done += static_cast<size_t>(n);
      }
    }
    buffer_.clear();
    return absl::OkStatus();
  }

  absl::Status Fail(absl::string_view what) {
    int error = errno;
    Abandon();
    return SystemError(error, absl::StrCat(path_, ": ", what));
  }

  void Abandon() {
    if (gz_ != nullptr) gzclose(gz_);
    gz_ = nullptr;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    if (!temp_path_.empty()) unlink(temp_path_.c_str());
    temp_path_.clear();
  }

  std::string path_;
  std::string temp_path_;
  bool gzip_ = false;
  int fd_ = -1;
  gzFile gz_ = nullptr;
  std::string buffer_;
};

template <typename T>
void AppendNumber(std::string* out, T value) {
  char buf[32];
  // to_chars gives the shortest text that reads back to the same float.
  auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, static_cast<size_t>(result.ptr - buf));
}

}  // namespace

absl::StatusOr<std::vector<Interaction>> ParseInteractions(
    absl::string_view text, const std::string& source,
    const ReaderOptions& options) {
  if (absl::Status s = ValidateReaderOptions(options); !s.ok()) return s;
  int64_t header_line = 0;
  absl::StatusOr<ColumnPlan> plan = PlanColumns(text, source, options, &header_line);
  if (!plan.ok()) return plan.status();
  InteractionLineParser parser(*plan, options, source, header_line);
  std::vector<Interaction> out;
  out.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  LineCursor cursor(text);
  absl::string_view line;
  Interaction row;
  while (cursor.Next(&line)) {
    auto is_row = parser.Parse(line, cursor.line_number(), &row);
    if (!is_row.ok()) return is_row.status();
    if (*is_row) out.push_back(row);
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(source + ": no interactions");
  }
  return out;
}

absl::StatusOr<std::vector<RankingCase>> ParseNegatives(
    absl::string_view text, const std::string& source) {
  std::vector<RankingCase> out;
  std::vector<absl::string_view> fields;
  LineCursor cursor(text);
  absl::string_view line;
  while (cursor.NextNonBlank(&line)) {
    const int64_t n = cursor.line_number();
    SplitFields(line, "\t", &fields);
    absl::string_view pair = fields[0];
    size_t comma = pair.find(',');
    if (pair.size() < 5 || pair.front() != '(' || pair.back() != ')' ||
        comma == absl::string_view::npos) {
      return absl::InvalidArgumentError(LineError(
          source, n,
          absl::StrCat("expected '(user,item)' as the first field, got '", pair,
                       "'")));
    }
    RankingCase& c = out.emplace_back();
    absl::string_view user = pair.substr(1, comma - 1);
    absl::string_view item = pair.substr(comma + 1, pair.size() - comma - 2);
    if (!absl::SimpleAtoi(user, &c.user)) {
      return absl::InvalidArgumentError(
          LineError(source, n,
                    absl::StrCat("user id '", user,
                                 "' is not an unsigned 64-bit integer")));
    }
    if (!absl::SimpleAtoi(item, &c.test_item)) {
      return absl::InvalidArgumentError(
          LineError(source, n,
                    absl::StrCat("item id '", item,
                                 "' is not an unsigned 64-bit integer")));
    }
    c.negatives.reserve(fields.size() - 1);
    for (size_t i = 1; i < fields.size(); ++i) {
      // Writers often leave a trailing tab; an empty field there is harmless.
      if (fields[i].empty() && i + 1 == fields.size()) break;
      uint64_t neg;
      if (!absl::SimpleAtoi(fields[i], &neg)) {
        return absl::InvalidArgumentError(
            LineError(source, n,
                      absl::StrCat("negative item id '", fields[i],
                                   "' is not an unsigned 64-bit integer")));
      }
      c.negatives.push_back(neg);
    }
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(source + ": no ranking cases");
  }
  return out;
}

namespace {

// All of one file, reserved once from the stream's estimate.
absl::StatusOr<std::vector<Interaction>> ReadAll(const std::string& path,
                                                 const ReaderOptions& options) {
  std::vector<Interaction> out;
  StreamOptions stream;
  stream.on_estimate = [&out](uint64_t n) { out.reserve(out.size() + n); };
  absl::Status s = StreamInteractions(
      path, options,
      [&out](absl::Span<const Interaction> rows) {
        out.insert(out.end(), rows.begin(), rows.end());
        return absl::OkStatus();
      },
      stream);
  if (!s.ok()) return s;
  return out;
}

// One part: its interactions, none for an empty or header-only part.
absl::StatusOr<std::vector<Interaction>> ReadOnePart(const std::string& part,
                                                     const ReaderOptions& options) {
  absl::StatusOr<std::vector<Interaction>> rows = ReadAll(part, options);
  if (!rows.ok() && rows.status().message() == part + ": no interactions") {
    return std::vector<Interaction>();
  }
  return rows;
}

// Each part is parsed on its own, as Spark writes a header into every part
// (with header=true). Parts are read and parsed in parallel (gunzip and
// parsing dominate), then concatenated in name order.
absl::StatusOr<std::vector<Interaction>> ReadInteractionParts(const std::string& dir,
                                                              const ReaderOptions& options) {
  absl::StatusOr<std::vector<std::string>> parts = ListPartFiles(dir);
  if (!parts.ok()) return parts.status();
  std::vector<absl::StatusOr<std::vector<Interaction>>> results(parts->size());
  std::atomic<size_t> next{0};
  auto read_parts = [&] {
    for (size_t i; (i = next.fetch_add(1)) < parts->size();) {
      results[i] = ReadOnePart((*parts)[i], options);
    }
  };
  const size_t threads = std::min<size_t>(
      parts->size(), std::max<unsigned>(1, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(read_parts);
  read_parts();
  for (std::thread& t : pool) t.join();
  size_t total = 0;
  for (auto& rows : results) {
    if (!rows.ok()) return rows.status();  // the first failing part by name
    total += rows->size();
  }
  if (total == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": no interactions in its ", parts->size(), " part files"));
  }
  std::vector<Interaction> all;
  all.reserve(total);
  for (auto& rows : results) {
    all.insert(all.end(), rows->begin(), rows->end());
    *rows = std::vector<Interaction>();
  }
  return all;
}

}  // namespace

absl::StatusOr<std::string> ReadFileMaybeGz(const std::string& path) {
  return ReadWholeText(path);
}

absl::StatusOr<std::vector<Interaction>> ReadInteractions(
    const std::string& path, const ReaderOptions& options) {
  // Bad options are reported before touching the file: they are the caller's
  // mistake whatever the file holds.
  if (absl::Status s = ValidateReaderOptions(options); !s.ok()) return s;
  if (IsDirectory(path)) return ReadInteractionParts(path, options);
  return ReadAll(path, options);
}

absl::StatusOr<std::vector<RankingCase>> ReadNegatives(
    const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileMaybeGz(path);
  if (!text.ok()) return text.status();
  return ParseNegatives(*text, path);
}

absl::Status WriteInteractions(const std::string& path,
                               const std::vector<Interaction>& data) {
  AtomicFileWriter writer;
  if (absl::Status s = writer.Open(path); !s.ok()) return s;
  std::string& buf = writer.buffer();
  for (const Interaction& row : data) {
    AppendNumber(&buf, row.user);
    buf.push_back('\t');
    AppendNumber(&buf, row.item);
    buf.push_back('\t');
    AppendNumber(&buf, row.rating);
    buf.push_back('\t');
    AppendNumber(&buf, row.timestamp);
    buf.push_back('\n');
    if (absl::Status s = writer.MaybeFlush(); !s.ok()) return s;
  }
  return writer.Commit();
}

absl::Status WriteNegatives(const std::string& path,
                            const std::vector<RankingCase>& cases) {
  AtomicFileWriter writer;
  if (absl::Status s = writer.Open(path); !s.ok()) return s;
  std::string& buf = writer.buffer();
  for (const RankingCase& c : cases) {
    buf.push_back('(');
    AppendNumber(&buf, c.user);
    buf.push_back(',');
    AppendNumber(&buf, c.test_item);
    buf.push_back(')');
    for (uint64_t neg : c.negatives) {
      buf.push_back('\t');
      AppendNumber(&buf, neg);
    }
    buf.push_back('\n');
    if (absl::Status s = writer.MaybeFlush(); !s.ok()) return s;
  }
  return writer.Commit();
}

}  // namespace psrec
