// Reads a text file in blocks, gunzipping it on the fly when it starts with
// the gzip magic (1f 8b; the name is not trusted), so that a reader's memory
// does not grow with the file.
#ifndef PSREC_COMMON_TEXT_SOURCE_H_
#define PSREC_COMMON_TEXT_SOURCE_H_

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace psrec {

class TextSource {
 public:
  // NotFound "PATH: no such file"; InvalidArgument for a directory.
  static absl::StatusOr<std::unique_ptr<TextSource>> Open(const std::string& path);
  ~TextSource();
  TextSource(const TextSource&) = delete;
  TextSource& operator=(const TextSource&) = delete;

  // Appends up to `max_bytes` of text to `*out` and returns how many; 0 only
  // at the end. Concatenated gzip members are all decoded; bytes after the
  // last member that are not another member are ignored (as gzip does).
  // Corrupt or truncated gzip data is DataLoss naming the path.
  absl::StatusOr<size_t> Read(size_t max_bytes, std::string* out);

  // Bytes of the file (compressed, for gzip) consumed so far, and its size
  // when stat() knew it (0 otherwise): for progress reports.
  uint64_t file_offset() const { return file_offset_; }
  uint64_t file_size() const { return file_size_; }
  bool gzip() const { return gzip_; }

 private:
  TextSource(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), file_size_(size) {}
  // Reads more of the file into in_ (keeping its unconsumed tail); false at
  // the end of the file.
  absl::StatusOr<bool> Refill();
  absl::StatusOr<size_t> ReadGzip(size_t max_bytes, std::string* out);

  std::string path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  uint64_t file_offset_ = 0;
  bool eof_ = false;
  bool gzip_ = false;
  // Read from the file but not yet handed out (plain) or inflated (gzip).
  std::string in_;
  size_t in_pos_ = 0;
  z_stream z_{};
  bool z_open_ = false;
  bool member_ended_ = false;
  bool done_ = false;
};

// The whole (gunzipped) text of a file.
absl::StatusOr<std::string> ReadWholeText(const std::string& path);

}  // namespace psrec

#endif  // PSREC_COMMON_TEXT_SOURCE_H_
