#include "common/interaction_parser.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace psrec {
namespace {

constexpr absl::string_view kFormats[] = {"auto", "tsv", "csv",
                                          "dat",  "ncf", "delimited"};
// The first one present wins: space comes last because it also pads fields
// of the other formats.
constexpr absl::string_view kDelimiterCandidates[] = {"\t", "::", ",", ";",
                                                      " "};

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

}  // namespace

bool LineCursor::Next(absl::string_view* line) {
  if (pos_ >= text_.size()) return false;
  size_t end = text_.find('\n', pos_);
  if (end == absl::string_view::npos) end = text_.size();
  *line = text_.substr(pos_, end - pos_);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  pos_ = end + 1;
  ++line_number_;
  return true;
}

bool LineCursor::NextNonBlank(absl::string_view* line) {
  while (Next(line)) {
    if (!absl::StripAsciiWhitespace(*line).empty()) return true;
  }
  return false;
}

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

std::string LineError(const std::string& source, int64_t line,
                      absl::string_view what) {
  return absl::StrCat(source, ":", line, ": ", what);
}

absl::Status ValidateReaderOptions(const ReaderOptions& options) {
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

namespace {

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

}  // namespace

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

InteractionLineParser::InteractionLineParser(ColumnPlan plan, const ReaderOptions& options,
                                             std::string source, int64_t header_line)
    : plan_(std::move(plan)),
      implicit_(options.implicit),
      source_(std::move(source)),
      header_line_(header_line),
      shown_delimiter_(absl::CEscape(plan_.delimiter)) {
  fields_.reserve(16);
}

absl::StatusOr<bool> InteractionLineParser::Parse(absl::string_view line, int64_t n,
                                                  Interaction* row) {
  if (n == header_line_) return false;
  if (absl::StripAsciiWhitespace(line).empty()) return false;
  SplitFields(line, plan_.delimiter, &fields_);
  if (fields_.size() < plan_.min_fields) {
    return absl::InvalidArgumentError(
        LineError(source_, n,
                  absl::StrCat("expected at least ", plan_.min_fields, " fields separated by '",
                               shown_delimiter_, "', got ", fields_.size())));
  }
  *row = Interaction();
  absl::string_view f = fields_[plan_.user];
  if (!absl::SimpleAtoi(f, &row->user)) {
    return absl::InvalidArgumentError(LineError(
        source_, n, absl::StrCat("user id '", f, "' is not an unsigned 64-bit integer")));
  }
  f = fields_[plan_.item];
  if (!absl::SimpleAtoi(f, &row->item)) {
    return absl::InvalidArgumentError(LineError(
        source_, n, absl::StrCat("item id '", f, "' is not an unsigned 64-bit integer")));
  }
  if (implicit_) {
    row->rating = 1.0f;
  } else if (plan_.rating >= 0 && static_cast<size_t>(plan_.rating) < fields_.size()) {
    f = fields_[plan_.rating];
    if (!absl::SimpleAtof(f, &row->rating) || !std::isfinite(row->rating)) {
      return absl::InvalidArgumentError(
          LineError(source_, n, absl::StrCat("rating '", f, "' is not a finite number")));
    }
  }
  if (plan_.timestamp >= 0 && static_cast<size_t>(plan_.timestamp) < fields_.size()) {
    f = fields_[plan_.timestamp];
    if (!absl::SimpleAtoi(f, &row->timestamp)) {
      return absl::InvalidArgumentError(
          LineError(source_, n, absl::StrCat("timestamp '", f, "' is not a 64-bit integer")));
    }
  }
  return true;
}

}  // namespace psrec
