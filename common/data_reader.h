// Readers for interaction files: NCF `.rating`/`.negative`, MovieLens `u.data`
// (tab), `ratings.dat` (`::`), `ratings.csv` (comma + header), generic delimited
// files, each optionally gzip-compressed (`.gz`, detected from the magic bytes).
//
// Errors are values: a malformed line yields InvalidArgument whose message is
// "FILE:LINE: what was wrong" (LINE is 1-based, counted over the whole file,
// header included); a missing file yields NotFound naming the path.
#ifndef PSREC_COMMON_DATA_READER_H_
#define PSREC_COMMON_DATA_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/dataset.h"

namespace psrec {

// How to split and map the columns of a delimited file. Defaults mean "detect":
// the delimiter from the first data line (tab, "::", comma, semicolon, space),
// the header from whether the first line's id columns are non-numeric, and the
// columns by header name (user/userId/user_id, item/movieId/item_id,
// rating, timestamp) or else by position (user, item, rating, timestamp).
struct ReaderOptions {
  std::string format = "auto";  // auto | tsv | csv | dat | ncf | delimited
  std::string delimiter;        // empty = detect (used by "delimited"/"auto")
  int header = -1;              // -1 detect, 0 none, 1 first line is a header
  int user_col = -1;            // -1 = from header or position 0
  int item_col = -1;            // -1 = from header or position 1
  int rating_col = -1;          // -1 = from header or position 2 (absent = 1.0)
  int timestamp_col = -1;       // -1 = from header or position 3 (absent = 0)
  bool implicit = false;        // true: every line is a positive, label 1.0
};

// Reads a whole interaction file. Blank lines are skipped (they still count
// for line numbers). Ids must be unsigned 64-bit integers; ratings finite floats.
// `path` may be a directory of Spark part files (common/part_files.h): every
// part-* file is read (each gzipped or not, each with or without its header)
// and their interactions concatenated in part-name order; empty and
// header-only parts are skipped; errors name the part file.
absl::StatusOr<std::vector<Interaction>> ReadInteractions(
    const std::string& path, const ReaderOptions& options);

// Reads an NCF `test.negative` file: lines "(user,item)\tneg1\tneg2...".
absl::StatusOr<std::vector<RankingCase>> ReadNegatives(const std::string& path);

// The parsers behind ReadInteractions/ReadNegatives, for text already in
// memory. `source` only names the text in error messages ("SOURCE:LINE: ...").
absl::StatusOr<std::vector<Interaction>> ParseInteractions(
    absl::string_view text, const std::string& source,
    const ReaderOptions& options);
absl::StatusOr<std::vector<RankingCase>> ParseNegatives(
    absl::string_view text, const std::string& source);

// Reads a whole file, transparently gunzipping it when it starts with the gzip
// magic. Used by every reader; exposed for the few callers that need raw text.
absl::StatusOr<std::string> ReadFileMaybeGz(const std::string& path);

// Writes interactions as "user\titem\trating\ttimestamp" lines (gzip when path
// ends in ".gz"), atomically (temporary file + rename).
absl::Status WriteInteractions(const std::string& path,
                               const std::vector<Interaction>& data);

// Writes NCF `test.negative` lines "(user,item)\tneg1\t...", atomically.
absl::Status WriteNegatives(const std::string& path,
                            const std::vector<RankingCase>& cases);

}  // namespace psrec

#endif  // PSREC_COMMON_DATA_READER_H_
