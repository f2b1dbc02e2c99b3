// The line-level parsing behind every interaction reader (common/data_reader.h,
// common/interaction_stream.h): which column holds what, settled once from the
// options and the first lines, then one line at a time. Internal to common/.
#ifndef PSREC_COMMON_INTERACTION_PARSER_H_
#define PSREC_COMMON_INTERACTION_PARSER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/data_reader.h"
#include "common/dataset.h"

namespace psrec {

// Walks the text line by line, counting every line (blank ones too) so error
// messages point at what an editor shows.
class LineCursor {
 public:
  explicit LineCursor(absl::string_view text) : text_(text) {}

  bool Next(absl::string_view* line);
  // Like Next() but skips lines holding only whitespace.
  bool NextNonBlank(absl::string_view* line);
  int64_t line_number() const { return line_number_; }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
  int64_t line_number_ = 0;
};

// Splits into `fields` (reused across lines so parsing allocates nothing).
// Space-delimited files get runs of spaces collapsed, as people align columns.
void SplitFields(absl::string_view line, absl::string_view delim,
                 std::vector<absl::string_view>* fields);

std::string LineError(const std::string& source, int64_t line, absl::string_view what);

// The options' own mistakes (unknown format, clashing columns), whatever the file holds.
absl::Status ValidateReaderOptions(const ReaderOptions& options);

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

// Plans from the first two non-blank lines of `text` (the rest is not
// looked at). `*header_line` is the header's 1-based line, 0 for none.
// "SOURCE: no interactions" when `text` has no non-blank line.
absl::StatusOr<ColumnPlan> PlanColumns(absl::string_view text, const std::string& source,
                                       const ReaderOptions& options, int64_t* header_line);

// Parses data lines under one plan. Reuses its buffers: parsing allocates
// nothing per line.
class InteractionLineParser {
 public:
  InteractionLineParser(ColumnPlan plan, const ReaderOptions& options, std::string source,
                        int64_t header_line);
  // Line `n` (1-based) into `*row`: true for an interaction, false for the
  // header or a blank line; InvalidArgument "SOURCE:N: ..." for a bad line.
  absl::StatusOr<bool> Parse(absl::string_view line, int64_t n, Interaction* row);
  const std::string& source() const { return source_; }

 private:
  ColumnPlan plan_;
  bool implicit_;
  std::string source_;
  int64_t header_line_;
  std::string shown_delimiter_;
  std::vector<absl::string_view> fields_;
};

}  // namespace psrec

#endif  // PSREC_COMMON_INTERACTION_PARSER_H_
