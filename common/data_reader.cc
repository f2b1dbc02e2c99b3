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
#include "common/part_files.h"

namespace psrec {
namespace {

constexpr absl::string_view kFormats[] = {"auto", "tsv", "csv",
                                          "dat",  "ncf", "delimited"};
// The first one present wins: space comes last because it also pads fields
// of the other formats.
constexpr absl::string_view kDelimiterCandidates[] = {"\t", "::", ",", ";",
                                                      " "};

// ---- raw file I/O ----------------------------------------------------------

// ErrnoToStatus(0, ...) is OK, so failures that left errno unset (zlib's)
// need a code of their own.
absl::Status SystemError(int error, const std::string& message) {
  if (error == 0) return absl::InternalError(message);
  return absl::ErrnoToStatus(error, message);
}

absl::Status ErrnoStatus(int error, const std::string& path,
                         absl::string_view what) {
  if (error == ENOENT) return absl::NotFoundError(path + ": no such file");
  return SystemError(error, absl::StrCat(path, ": ", what));
}

absl::StatusOr<std::string> ReadPlain(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, path, "cannot open");
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int error = errno;
    close(fd);
    return ErrnoStatus(error, path, "cannot stat");
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(path + ": is a directory");
  }
  // st_size is only a hint: pipes report 0 and files may grow while read.
  std::string out;
  out.resize(std::max<size_t>(static_cast<size_t>(st.st_size) + 1, 1 << 16));
  size_t used = 0;
  while (true) {
    if (used == out.size()) out.resize(out.size() * 2);
    ssize_t n = read(fd, &out[used], out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      close(fd);
      return ErrnoStatus(error, path, "read failed");
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  close(fd);
  out.resize(used);
  return out;
}

bool HasGzipMagic(absl::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

// Inflates from the bytes already read, so the file is opened only once.
// Concatenated members (as `cat a.gz b.gz` makes) are all decoded.
absl::StatusOr<std::string> Gunzip(const std::string& path,
                                   absl::string_view compressed) {
  z_stream z{};
  // 16 + MAX_WBITS: expect a gzip wrapper, not raw zlib.
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError(path + ": cannot start gzip decoder");
  }
  std::string out;
  // The trailer holds the (last member's) size mod 2^32: a good first guess.
  size_t guess = compressed.size() * 4;
  if (compressed.size() >= 18) {
    const auto* tail =
        reinterpret_cast<const unsigned char*>(compressed.data()) +
        compressed.size() - 4;
    const size_t trailer_size = tail[0] | tail[1] << 8 | tail[2] << 16 |
                                static_cast<size_t>(tail[3]) << 24;
    // Deflate cannot beat ~1032:1, so a larger claim is not a real trailer.
    guess = std::max(guess, std::min(trailer_size, compressed.size() * 1032));
  }
  out.resize(std::max<size_t>(guess + 1, 1 << 16));
  size_t used = 0;
  size_t consumed = 0;
  std::string error;
  while (true) {
    if (used == out.size()) out.resize(out.size() * 2);
    // avail_in/avail_out are 32-bit, so big buffers go through in steps.
    const size_t in_step =
        std::min<size_t>(compressed.size() - consumed, 1u << 30);
    const size_t out_step = std::min<size_t>(out.size() - used, 1u << 30);
    z.next_in = reinterpret_cast<Bytef*>(
        const_cast<char*>(compressed.data() + consumed));
    z.avail_in = static_cast<uInt>(in_step);
    z.next_out = reinterpret_cast<Bytef*>(&out[used]);
    z.avail_out = static_cast<uInt>(out_step);
    const int rc = inflate(&z, Z_NO_FLUSH);
    consumed += in_step - z.avail_in;
    used += out_step - z.avail_out;
    if (rc == Z_STREAM_END) {
      // Another member may follow; anything else after the end is ignored,
      // as gzip itself does with trailing padding.
      if (!HasGzipMagic(compressed.substr(consumed))) break;
      inflateReset(&z);
      continue;
    }
    if (rc == Z_BUF_ERROR && consumed == compressed.size() &&
        z.avail_out != 0) {
      error = "unexpected end of file";
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error = z.msg != nullptr ? z.msg : absl::StrCat("zlib error ", rc);
      break;
    }
  }
  inflateEnd(&z);
  if (!error.empty()) {
    return absl::DataLossError(
        absl::StrCat(path, ": corrupt gzip data: ", error));
  }
  out.resize(used);
  return out;
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

// ---- line parsing ----------------------------------------------------------

// Walks the text line by line, counting every line (blank ones too) so error
// messages point at what an editor shows.
class LineCursor {
 public:
  explicit LineCursor(absl::string_view text) : text_(text) {}

  bool Next(absl::string_view* line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == absl::string_view::npos) end = text_.size();
    *line = text_.substr(pos_, end - pos_);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    pos_ = end + 1;
    ++line_number_;
    return true;
  }

  // Like Next() but skips lines holding only whitespace.
  bool NextNonBlank(absl::string_view* line) {
    while (Next(line)) {
      if (!absl::StripAsciiWhitespace(*line).empty()) return true;
    }
    return false;
  }

  int64_t line_number() const { return line_number_; }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
  int64_t line_number_ = 0;
};

// Splits into `fields` (reused across lines so parsing allocates nothing).
// Space-delimited files get runs of spaces collapsed, as people align columns.
void SplitFields(absl::string_view line, absl::string_view delim,
                 std::vector<absl::string_view>* fields) {
  fields->clear();
  const bool collapse = delim == " ";
  size_t start = 0;
  while (true) {
    size_t end = delim.size() == 1 ? line.find(delim[0], start)
                                   : line.find(delim, start);
    if (end == absl::string_view::npos) end = line.size();
    absl::string_view field =
        absl::StripAsciiWhitespace(line.substr(start, end - start));
    if (!collapse || !field.empty()) fields->push_back(field);
    if (end == line.size()) break;
    start = end + delim.size();
  }
}

absl::string_view DetectDelimiter(absl::string_view line) {
  for (absl::string_view candidate : kDelimiterCandidates) {
    if (absl::StrContains(line, candidate)) return candidate;
  }
  return "\t";
}

bool IsUnsigned(absl::string_view field) {
  uint64_t unused;
  return absl::SimpleAtoi(field, &unused);
}

std::string LineError(const std::string& source, int64_t line,
                      absl::string_view what) {
  return absl::StrCat(source, ":", line, ": ", what);
}

// Which column holds what, settled once from options, header and first lines.
struct ColumnPlan {
  std::string delimiter;
  bool has_header = false;
  int user = 0;
  int item = 1;
  int rating = -1;     // -1: absent, every rating is 1.0
  int timestamp = -1;  // -1: absent, every timestamp is 0
  // Positional defaults tolerate short lines; named or explicit columns don't.
  bool rating_optional = false;
  bool timestamp_optional = false;
  size_t min_fields = 2;
};

enum class Role { kNone, kUser, kItem, kRating, kTimestamp };

Role RoleForHeaderName(absl::string_view raw) {
  std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  for (const char* n : {"user", "userid", "user_id", "uid"}) {
    if (name == n) return Role::kUser;
  }
  for (const char* n :
       {"item", "itemid", "item_id", "movieid", "movie_id", "iid"}) {
    if (name == n) return Role::kItem;
  }
  for (const char* n : {"rating", "score", "label"}) {
    if (name == n) return Role::kRating;
  }
  for (const char* n : {"timestamp", "time", "ts"}) {
    if (name == n) return Role::kTimestamp;
  }
  return Role::kNone;
}

absl::Status ValidateOptions(const ReaderOptions& options) {
  bool known = false;
  for (absl::string_view f : kFormats) known = known || options.format == f;
  if (!known) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown data format '", options.format,
                     "'; valid formats: ", absl::StrJoin(kFormats, ", ")));
  }
  if (options.header < -1 || options.header > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "header must be -1 (detect), 0 or 1, got ", options.header));
  }
  const std::pair<const char*, int> cols[] = {
      {"user_col", options.user_col},
      {"item_col", options.item_col},
      {"rating_col", options.rating_col},
      {"timestamp_col", options.timestamp_col}};
  for (size_t i = 0; i < 4; ++i) {
    if (cols[i].second < -1) {
      return absl::InvalidArgumentError(absl::StrCat(
          cols[i].first, " must be -1 (detect) or >= 0, got ", cols[i].second));
    }
    for (size_t j = 0; j < i; ++j) {
      if (cols[i].second >= 0 && cols[i].second == cols[j].second) {
        return absl::InvalidArgumentError(
            absl::StrCat(cols[j].first, " and ", cols[i].first,
                         " are both column ", cols[i].second));
      }
    }
  }
  return absl::OkStatus();
}

// Applies header names (if any) and positional defaults on top of the columns
// the caller pinned explicitly.
absl::Status AssignColumns(const std::vector<absl::string_view>& header,
                           const ReaderOptions& options,
                           const std::string& source, int64_t header_line,
                           ColumnPlan* plan) {
  int named[5] = {-1, -1, -1, -1, -1};  // indexed by Role
  bool any_named = false;
  for (size_t i = 0; i < header.size(); ++i) {
    Role role = RoleForHeaderName(header[i]);
    if (role == Role::kNone) continue;
    any_named = true;
    int& slot = named[static_cast<int>(role)];
    if (slot < 0) slot = static_cast<int>(i);  // first of duplicates wins
  }
  auto pick = [&](int option, Role role, int position, bool* optional) {
    *optional = false;
    if (option >= 0) return option;
    if (any_named) return named[static_cast<int>(role)];
    *optional = true;
    return position;
  };
  bool unused;
  plan->user = pick(options.user_col, Role::kUser, 0, &unused);
  plan->item = pick(options.item_col, Role::kItem, 1, &unused);
  if (plan->user < 0 || plan->item < 0) {
    return absl::InvalidArgumentError(LineError(
        source, header_line,
        plan->user < 0
            ? "header has no user column (expected user, userId, user_id "
              "or uid)"
            : "header has no item column (expected item, itemId, item_id, "
              "movieId, movie_id or iid)"));
  }
  plan->rating =
      pick(options.rating_col, Role::kRating, 2, &plan->rating_optional);
  plan->timestamp = pick(options.timestamp_col, Role::kTimestamp, 3,
                         &plan->timestamp_optional);
  // A positional default yields to a column pinned to another role.
  if (plan->rating_optional &&
      (plan->rating == plan->user || plan->rating == plan->item ||
       (!plan->timestamp_optional && plan->rating == plan->timestamp))) {
    plan->rating = -1;
  }
  if (plan->timestamp_optional &&
      (plan->timestamp == plan->user || plan->timestamp == plan->item ||
       plan->timestamp == plan->rating)) {
    plan->timestamp = -1;
  }
  const int cols[] = {plan->user, plan->item, plan->rating, plan->timestamp};
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < i; ++j) {
      if (cols[i] >= 0 && cols[i] == cols[j]) {
        return absl::InvalidArgumentError(LineError(
            source, header_line,
            absl::StrCat("column ", cols[i], " is mapped to two roles")));
      }
    }
  }
  int required = std::max(plan->user, plan->item);
  if (!plan->rating_optional) required = std::max(required, plan->rating);
  if (!plan->timestamp_optional) required = std::max(required, plan->timestamp);
  plan->min_fields = static_cast<size_t>(required) + 1;
  return absl::OkStatus();
}

absl::StatusOr<ColumnPlan> PlanColumns(absl::string_view text,
                                       const std::string& source,
                                       const ReaderOptions& options,
                                       int64_t* header_line) {
  ColumnPlan plan;
  std::string delimiter;
  int header = options.header;
  if (options.format == "tsv") {
    delimiter = "\t";
  } else if (options.format == "csv") {
    delimiter = ",";
  } else if (options.format == "dat") {
    delimiter = "::";
  } else if (options.format == "ncf") {
    delimiter = "\t";
    if (header < 0) header = 0;
  } else {
    delimiter = options.delimiter;
  }

  LineCursor cursor(text);
  absl::string_view first, second;
  if (!cursor.NextNonBlank(&first)) {
    return absl::InvalidArgumentError(source + ": no interactions");
  }
  const int64_t first_line = cursor.line_number();
  const bool has_second = cursor.NextNonBlank(&second);

  // A header is a line of 2+ fields whose id columns are both non-numeric; a
  // line with one bad id is data, so it gets reported rather than skipped.
  const size_t probe_user = options.user_col >= 0 ? options.user_col : 0;
  const size_t probe_item = options.item_col >= 0 ? options.item_col : 1;
  std::vector<absl::string_view> fields;
  auto looks_like_header = [&](absl::string_view line, absl::string_view d) {
    SplitFields(line, d, &fields);
    if (fields.size() < 2) return false;
    bool user_num =
        probe_user < fields.size() && IsUnsigned(fields[probe_user]);
    bool item_num =
        probe_item < fields.size() && IsUnsigned(fields[probe_item]);
    return !user_num && !item_num;
  };

  if (header < 0) {
    header = looks_like_header(first, delimiter.empty()
                                          ? DetectDelimiter(first)
                                          : absl::string_view(delimiter))
                 ? 1
                 : 0;
  }
  plan.has_header = header == 1;
  if (delimiter.empty()) {
    // Detect from data, not the header: header names may contain spaces.
    absl::string_view data_line = plan.has_header ? second : first;
    delimiter = std::string(plan.has_header && !has_second
                                ? DetectDelimiter(first)
                                : DetectDelimiter(data_line));
  }
  plan.delimiter = delimiter;

  fields.clear();
  if (plan.has_header) SplitFields(first, delimiter, &fields);
  if (absl::Status s =
          AssignColumns(fields, options, source, first_line, &plan);
      !s.ok()) {
    return s;
  }
  *header_line = plan.has_header ? first_line : 0;
  return plan;
}

}  // namespace

absl::StatusOr<std::vector<Interaction>> ParseInteractions(
    absl::string_view text, const std::string& source,
    const ReaderOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  int64_t header_line = 0;
  absl::StatusOr<ColumnPlan> plan_or =
      PlanColumns(text, source, options, &header_line);
  if (!plan_or.ok()) return plan_or.status();
  const ColumnPlan& plan = *plan_or;
  const std::string shown_delimiter = absl::CEscape(plan.delimiter);

  std::vector<Interaction> out;
  out.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) +
              1);
  std::vector<absl::string_view> fields;
  fields.reserve(16);
  LineCursor cursor(text);
  absl::string_view line;
  while (cursor.Next(&line)) {
    const int64_t n = cursor.line_number();
    if (n == header_line) continue;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    SplitFields(line, plan.delimiter, &fields);
    if (fields.size() < plan.min_fields) {
      return absl::InvalidArgumentError(
          LineError(source, n,
                    absl::StrCat("expected at least ", plan.min_fields,
                                 " fields separated by '", shown_delimiter,
                                 "', got ", fields.size())));
    }
    Interaction& row = out.emplace_back();
    absl::string_view f = fields[plan.user];
    if (!absl::SimpleAtoi(f, &row.user)) {
      return absl::InvalidArgumentError(LineError(
          source, n,
          absl::StrCat("user id '", f, "' is not an unsigned 64-bit integer")));
    }
    f = fields[plan.item];
    if (!absl::SimpleAtoi(f, &row.item)) {
      return absl::InvalidArgumentError(LineError(
          source, n,
          absl::StrCat("item id '", f, "' is not an unsigned 64-bit integer")));
    }
    if (options.implicit) {
      row.rating = 1.0f;
    } else if (plan.rating >= 0 &&
               static_cast<size_t>(plan.rating) < fields.size()) {
      f = fields[plan.rating];
      if (!absl::SimpleAtof(f, &row.rating) || !std::isfinite(row.rating)) {
        return absl::InvalidArgumentError(
            LineError(source, n,
                      absl::StrCat("rating '", f, "' is not a finite number")));
      }
    }
    if (plan.timestamp >= 0 &&
        static_cast<size_t>(plan.timestamp) < fields.size()) {
      f = fields[plan.timestamp];
      if (!absl::SimpleAtoi(f, &row.timestamp)) {
        return absl::InvalidArgumentError(LineError(
            source, n,
            absl::StrCat("timestamp '", f, "' is not a 64-bit integer")));
      }
    }
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

bool IsBlank(absl::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

// One part: its interactions, none for an empty or header-only part.
absl::StatusOr<std::vector<Interaction>> ReadOnePart(const std::string& part,
                                                     const ReaderOptions& options) {
  absl::StatusOr<std::string> text = ReadFileMaybeGz(part);
  if (!text.ok()) return text.status();
  if (IsBlank(*text)) return std::vector<Interaction>();
  absl::StatusOr<std::vector<Interaction>> rows = ParseInteractions(*text, part, options);
  // A header and nothing else parses to "no interactions": an empty part.
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
  std::vector<Interaction> all;
  for (auto& rows : results) {
    if (!rows.ok()) return rows.status();  // the first failing part by name
    all.insert(all.end(), rows->begin(), rows->end());
  }
  if (all.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": no interactions in its ", parts->size(), " part files"));
  }
  return all;
}

}  // namespace

absl::StatusOr<std::string> ReadFileMaybeGz(const std::string& path) {
  absl::StatusOr<std::string> raw = ReadPlain(path);
  if (!raw.ok()) return raw.status();
  // Sniff the magic rather than trust the name: downloads lose their suffix.
  if (HasGzipMagic(*raw)) return Gunzip(path, *raw);
  return raw;
}

absl::StatusOr<std::vector<Interaction>> ReadInteractions(
    const std::string& path, const ReaderOptions& options) {
  // Bad options are reported before touching the file: they are the caller's
  // mistake whatever the file holds.
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  if (IsDirectory(path)) return ReadInteractionParts(path, options);
  absl::StatusOr<std::string> text = ReadFileMaybeGz(path);
  if (!text.ok()) return text.status();
  return ParseInteractions(*text, path, options);
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
