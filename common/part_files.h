// Directories of part files as Spark (and Hadoop, Hive, pandas-on-Spark)
// write them: DIR/part-00000-<uuid>.csv[.gz], ... plus _SUCCESS and hidden
// checksum files, which are not data.
#ifndef PSREC_COMMON_PART_FILES_H_
#define PSREC_COMMON_PART_FILES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace psrec {

bool IsDirectory(const std::string& path);

// The data files of `dir`, sorted by name: regular files whose names start
// with "part-". Names starting with '_' or '.' (_SUCCESS, .part-*.crc) are
// skipped. An error names the directory when it cannot be read or holds no
// part file.
absl::StatusOr<std::vector<std::string>> ListPartFiles(const std::string& dir);

}  // namespace psrec

#endif  // PSREC_COMMON_PART_FILES_H_
