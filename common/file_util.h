// File helpers shared by every writer of durable files.
#ifndef PSREC_COMMON_FILE_UTIL_H_
#define PSREC_COMMON_FILE_UTIL_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace psrec {

// Maps errno to a Status whose message starts with `context`.
absl::Status ErrnoToStatus(int err, absl::string_view context);

// Writes `data` to `path` atomically: a temporary file beside it, fsync,
// rename, fsync of the directory. Readers see the old file or the new one.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view data);

absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// mkdir -p.
absl::Status MakeDirs(const std::string& path);

bool FileExists(const std::string& path);

// Resident set size of this process, from /proc/self/statm (0 if unknown).
uint64_t ResidentBytes();

}  // namespace psrec

#endif  // PSREC_COMMON_FILE_UTIL_H_
