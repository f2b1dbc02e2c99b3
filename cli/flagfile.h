// --flagfile=FILE: a run's settings in one file that every role reads.
#ifndef PSREC_CLI_FLAGFILE_H_
#define PSREC_CLI_FLAGFILE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace psrec {

// Replaces every `--flagfile=FILE[,FILE...]` (or `--flagfile FILE`) in `args`
// by the flags the files hold, in place and in order, so later flags still
// override earlier ones. The file format is Abseil's: one `--name=value` per
// line, blank lines and lines starting with '#' ignored, surrounding
// whitespace trimmed, the value taken verbatim (no quotes). Files may name
// further flagfiles (paths as given, relative to the working directory).
//
// psrec expands flagfiles itself rather than leaving them to Abseil so that
// the flags inside get the same dash/underscore normalisation as the command
// line, and so that `psrec train` hands its children the flags themselves.
// Errors name the file and line.
absl::StatusOr<std::vector<std::string>> ExpandFlagfiles(const std::vector<std::string>& args);

// The same, reading each named file's text through `read` (which answers
// NotFound or another error for a file it cannot give); for tests and fuzzing.
using FlagfileReader = std::function<absl::StatusOr<std::string>(const std::string& path)>;
absl::StatusOr<std::vector<std::string>> ExpandFlagfiles(const std::vector<std::string>& args,
                                                         const FlagfileReader& read);

}  // namespace psrec

#endif  // PSREC_CLI_FLAGFILE_H_
