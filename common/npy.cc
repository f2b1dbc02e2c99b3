#include "common/npy.h"

#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"

namespace psrec {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
constexpr size_t kAlign = 64;

// Bytes per element of the descrs psrec reads; nullopt for any other.
std::optional<size_t> ItemSize(absl::string_view descr) {
  struct Known {
    absl::string_view descr;
    size_t bytes;
  };
  static constexpr Known kKnown[] = {{"<f4", 4}, {"<f8", 8}, {"<i4", 4}, {"<i8", 8}, {"<u4", 4},
                                     {"<u8", 8}, {"|u1", 1}, {"|i1", 1}, {"|b1", 1}};
  for (const Known& k : kKnown) {
    if (k.descr == descr) return k.bytes;
  }
  return std::nullopt;
}

// Elements in `shape`, or nullopt when the product overflows 64 bits.
std::optional<uint64_t> Elements(absl::Span<const uint64_t> shape) {
  uint64_t n = 1;
  for (uint64_t d : shape) {
    if (d != 0 && n > UINT64_MAX / d) return std::nullopt;
    n *= d;
  }
  return n;
}

std::string ShapeTuple(absl::Span<const uint64_t> shape) {
  if (shape.size() == 1) return absl::StrCat("(", shape[0], ",)");
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

// A cursor over the header's Python literal: {'key': value, ...}, where a
// value is a string, True/False or a tuple of non-negative integers.
class DictParser {
 public:
  explicit DictParser(absl::string_view text) : s_(text) {}

  bool Consume(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool Peek(char c) {
    SkipSpace();
    return i_ < s_.size() && s_[i_] == c;
  }
  bool String(std::string* out) {
    SkipSpace();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) return false;
    const char quote = s_[i_++];
    const size_t end = s_.find(quote, i_);
    if (end == absl::string_view::npos) return false;
    *out = std::string(s_.substr(i_, end - i_));
    i_ = end + 1;
    return true;
  }
  bool Bool(bool* out) {
    SkipSpace();
    using Word = std::pair<absl::string_view, bool>;
    for (auto [word, value] : {Word{"True", true}, Word{"False", false}}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        *out = value;
        return true;
      }
    }
    return false;
  }
  bool Tuple(std::vector<uint64_t>* out) {
    out->clear();
    if (!Consume('(')) return false;
    while (!Consume(')')) {
      SkipSpace();
      const size_t start = i_;
      while (i_ < s_.size() && absl::ascii_isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      // Python 2 era files may write 3L.
      uint64_t v;
      if (!absl::SimpleAtoi(s_.substr(start, i_ - start), &v)) return false;
      if (i_ < s_.size() && s_[i_] == 'L') ++i_;
      out->push_back(v);
      if (!Consume(',') && !Peek(')')) return false;
    }
    return true;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ == s_.size();
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size() && absl::ascii_isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  absl::string_view s_;
  size_t i_ = 0;
};

absl::Status ParseHeader(absl::string_view header, const std::string& source, NpyArray* out) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: not a valid .npy header (%s): %s",
                                                      source, why,
                                                      absl::CHexEscape(header.substr(0, 120))));
  };
  DictParser p(header);
  if (!p.Consume('{')) return bad("no '{'");
  bool has_descr = false, has_order = false, has_shape = false;
  while (!p.Consume('}')) {
    std::string key;
    if (!p.String(&key) || !p.Consume(':')) return bad("expected 'key':");
    if (key == "descr") {
      if (!p.String(&out->descr)) return bad("descr is not a string");
      has_descr = true;
    } else if (key == "fortran_order") {
      if (!p.Bool(&out->fortran_order)) return bad("fortran_order is not True/False");
      has_order = true;
    } else if (key == "shape") {
      if (!p.Tuple(&out->shape)) return bad("shape is not a tuple of integers");
      has_shape = true;
    } else {
      return bad(absl::StrCat("unknown key '", key, "'"));
    }
    if (!p.Consume(',') && !p.Peek('}')) return bad("expected ',' or '}'");
  }
  if (!p.AtEnd()) return bad("text after '}'");
  if (!has_descr || !has_order || !has_shape) return bad("descr, fortran_order or shape missing");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> EncodeNpy(absl::string_view descr, absl::Span<const uint64_t> shape,
                                      absl::string_view data) {
  const std::optional<size_t> item = ItemSize(descr);
  if (!item) return absl::InvalidArgumentError(absl::StrCat("npy: unknown descr '", descr, "'"));
  const std::optional<uint64_t> elements = Elements(shape);
  if (!elements || *elements > UINT64_MAX / *item || *elements * *item != data.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "npy: %d data bytes do not hold shape %s of %s", data.size(), ShapeTuple(shape), descr));
  }
  std::string dict = absl::StrFormat("{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                                     descr, ShapeTuple(shape));
  // Magic, 2 version bytes, u16 length, dict, spaces, '\n': a multiple of 64.
  const size_t unpadded = kMagicBytes + 2 + 2 + dict.size() + 1;
  dict.append((kAlign - unpadded % kAlign) % kAlign, ' ');
  dict.push_back('\n');
  if (dict.size() > UINT16_MAX) return absl::InvalidArgumentError("npy: header too long");
  const uint16_t header_len = static_cast<uint16_t>(dict.size());
  std::string file(kMagic, kMagicBytes);
  file.push_back('\x01');
  file.push_back('\x00');
  file.push_back(static_cast<char>(header_len & 0xFF));
  file.push_back(static_cast<char>(header_len >> 8));
  file += dict;
  file.append(data.data(), data.size());
  return file;
}

absl::Status WriteNpy(const std::string& path, absl::string_view descr,
                      absl::Span<const uint64_t> shape, absl::string_view data) {
  auto file = EncodeNpy(descr, shape, data);
  if (!file.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", file.status().message()));
  }
  return WriteFileAtomically(path, *file);
}

absl::StatusOr<NpyArray> ParseNpy(absl::string_view bytes, const std::string& source) {
  if (bytes.size() < kMagicBytes + 2 || bytes.substr(0, kMagicBytes) != kMagic) {
    return absl::InvalidArgumentError(source + ": not a .npy file (no \\x93NUMPY magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t len_bytes;
  if (major == 1) {
    len_bytes = 2;
  } else if (major == 2 || major == 3) {
    len_bytes = 4;
  } else {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: .npy format version %d.%d is not supported", source, major,
                        static_cast<unsigned char>(bytes[7])));
  }
  const size_t prefix = kMagicBytes + 2 + len_bytes;
  if (bytes.size() < prefix) return absl::InvalidArgumentError(source + ": truncated .npy header");
  uint64_t header_len = 0;
  for (size_t b = 0; b < len_bytes; ++b) {
    header_len |= uint64_t{static_cast<unsigned char>(bytes[kMagicBytes + 2 + b])} << (8 * b);
  }
  if (header_len > bytes.size() - prefix) {
    return absl::InvalidArgumentError(source + ": truncated .npy header");
  }
  NpyArray array;
  if (auto s = ParseHeader(bytes.substr(prefix, header_len), source, &array); !s.ok()) return s;
  const std::optional<size_t> item = ItemSize(array.descr);
  if (!item) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: .npy descr '%s' is not supported", source, array.descr));
  }
  const uint64_t data_bytes = bytes.size() - prefix - header_len;
  const std::optional<uint64_t> elements = Elements(array.shape);
  if (!elements || *elements > data_bytes / *item || *elements * *item != data_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: .npy data is %d bytes, which is not shape %s of %s", source,
                        data_bytes, ShapeTuple(array.shape), array.descr));
  }
  array.data = std::string(bytes.substr(prefix + header_len));
  return array;
}

absl::StatusOr<NpyArray> ReadNpy(const std::string& path) {
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  return ParseNpy(*bytes, path);
}

}  // namespace psrec
