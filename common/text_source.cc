#include "common/text_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace psrec {
namespace {

constexpr size_t kInputBlock = 1 << 20;

// ErrnoToStatus(0, ...) is OK, so failures that left errno unset need a
// code of their own.
absl::Status ErrnoStatus(int error, const std::string& path, absl::string_view what) {
  if (error == ENOENT) return absl::NotFoundError(path + ": no such file");
  const std::string message = absl::StrCat(path, ": ", what);
  if (error == 0) return absl::InternalError(message);
  return absl::ErrnoToStatus(error, message);
}

bool HasGzipMagic(absl::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TextSource>> TextSource::Open(const std::string& path) {
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
  std::unique_ptr<TextSource> source(
      new TextSource(path, fd, S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0));
  // Sniff the magic rather than trust the name: downloads lose their suffix.
  while (source->in_.size() < 2) {
    auto more = source->Refill();
    if (!more.ok()) return more.status();
    if (!*more) break;
  }
  if (HasGzipMagic(source->in_)) {
    source->gzip_ = true;
    // 16 + MAX_WBITS: expect a gzip wrapper, not raw zlib.
    if (inflateInit2(&source->z_, 16 + MAX_WBITS) != Z_OK) {
      return absl::InternalError(path + ": cannot start gzip decoder");
    }
    source->z_open_ = true;
  }
  return source;
}

TextSource::~TextSource() {
  if (z_open_) inflateEnd(&z_);
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<bool> TextSource::Refill() {
  if (eof_) return false;
  in_.erase(0, in_pos_);
  in_pos_ = 0;
  const size_t used = in_.size();
  in_.resize(used + kInputBlock);
  while (true) {
    ssize_t n = read(fd_, &in_[used], kInputBlock);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      in_.resize(used);
      return ErrnoStatus(errno, path_, "read failed");
    }
    in_.resize(used + static_cast<size_t>(n));
    file_offset_ += static_cast<uint64_t>(n);
    if (n == 0) eof_ = true;
    return n > 0;
  }
}

absl::StatusOr<size_t> TextSource::Read(size_t max_bytes, std::string* out) {
  if (gzip_) return ReadGzip(max_bytes, out);
  if (in_pos_ == in_.size()) {
    auto more = Refill();
    if (!more.ok()) return more.status();
    if (!*more) return 0;
  }
  const size_t n = std::min(max_bytes, in_.size() - in_pos_);
  out->append(in_, in_pos_, n);
  in_pos_ += n;
  return n;
}

absl::StatusOr<size_t> TextSource::ReadGzip(size_t max_bytes, std::string* out) {
  const size_t start = out->size();
  out->resize(start + max_bytes);
  size_t produced = 0;
  std::string error;
  while (produced < max_bytes && !done_) {
    if (in_pos_ == in_.size() || (member_ended_ && in_.size() - in_pos_ < 2)) {
      auto more = Refill();
      if (!more.ok()) {
        out->resize(start + produced);
        return more.status();
      }
    }
    if (member_ended_) {
      // Another member may follow; anything else after the end is ignored.
      if (!HasGzipMagic(absl::string_view(in_).substr(in_pos_))) {
        done_ = true;
        break;
      }
      inflateReset(&z_);
      member_ended_ = false;
    }
    const size_t avail_in = in_.size() - in_pos_;
    z_.next_in = reinterpret_cast<Bytef*>(&in_[in_pos_]);
    z_.avail_in = static_cast<uInt>(avail_in);
    z_.next_out = reinterpret_cast<Bytef*>(&(*out)[start + produced]);
    z_.avail_out = static_cast<uInt>(std::min<size_t>(max_bytes - produced, 1u << 30));
    const uInt out_before = z_.avail_out;
    const int rc = inflate(&z_, Z_NO_FLUSH);
    in_pos_ += avail_in - z_.avail_in;
    produced += out_before - z_.avail_out;
    if (rc == Z_STREAM_END) {
      member_ended_ = true;
      continue;
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) {
      if (in_pos_ < in_.size()) {
        if (rc == Z_OK || produced == max_bytes) continue;  // more to inflate
        error = "inflate made no progress";
        break;
      }
      if (eof_) {
        error = "unexpected end of file";
        break;
      }
      continue;  // refill
    }
    {
      error = z_.msg != nullptr ? z_.msg : absl::StrCat("zlib error ", rc);
      break;
    }
  }
  out->resize(start + produced);
  if (!error.empty()) {
    return absl::DataLossError(absl::StrCat(path_, ": corrupt gzip data: ", error));
  }
  return produced;
}

absl::StatusOr<std::string> ReadWholeText(const std::string& path) {
  auto source = TextSource::Open(path);
  if (!source.ok()) return source.status();
  std::string text;
  if ((*source)->file_size() > 0 && !(*source)->gzip()) text.reserve((*source)->file_size());
  while (true) {
    auto n = (*source)->Read(16 << 20, &text);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
  }
  return text;
}

}  // namespace psrec
