// Reads interaction files in one streaming pass: the text goes through in
// blocks of a few MB and the parsed interactions reach the caller a block at
// a time, so a reader holds only what it keeps of them. Same formats, rules
// and errors ("FILE:LINE: ...") as common/data_reader.h, which reads through
// here too.
#ifndef PSREC_COMMON_INTERACTION_STREAM_H_
#define PSREC_COMMON_INTERACTION_STREAM_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/data_reader.h"
#include "common/dataset.h"

namespace psrec {

// Where a long read has got to.
struct ReadProgress {
  std::string path;           // the file (or part file) being read
  uint64_t interactions = 0;  // parsed so far, all files of the call
  uint64_t bytes_read = 0;    // of `path` (compressed bytes for gzip)
  uint64_t bytes_total = 0;   // size of `path`; 0 when unknown
  absl::Duration elapsed;     // since the call started
};

// "train.rating: 37% read, 12.3M interactions, 14 s".
std::string FormatReadProgress(const ReadProgress& p);

struct StreamOptions {
  size_t block_bytes = 4 << 20;
  // A progress report at most this often; a read that ends sooner has none.
  absl::Duration progress_every = absl::Seconds(10);
  // Receives the reports; null: they are logged (spdlog, info).
  std::function<void(const ReadProgress&)> on_progress;
  // Told once per plain file, before its first interaction, how many
  // interactions it probably holds (from its size and its first block), so
  // that a caller keeping them all can reserve once.
  std::function<void(uint64_t)> on_estimate;
};

// Receives consecutive interactions in file order; an error stops the read
// and is returned as is.
using InteractionSink = std::function<absl::Status(absl::Span<const Interaction>)>;

// Streams every interaction of `path` (a file, or a directory of Spark part
// files read one after the other in name order) to `sink`. Errors as
// ReadInteractions: "FILE:LINE: ...", "PATH: no such file", "PATH: no
// interactions".
absl::Status StreamInteractions(const std::string& path, const ReaderOptions& options,
                                const InteractionSink& sink, const StreamOptions& stream = {});

}  // namespace psrec

#endif  // PSREC_COMMON_INTERACTION_STREAM_H_
