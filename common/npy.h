// NumPy .npy files (format 1.0, https://numpy.org/devdocs/reference/generated/
// numpy.lib.format.html): the magic "\x93NUMPY", version bytes 1 0, a u16
// little-endian header length, an ASCII Python dict
// {'descr': '<f4', 'fortran_order': False, 'shape': (rows, cols), } padded
// with spaces and a final '\n' so that the data starts at a multiple of 64
// bytes, then the array's bytes in C order. psrec writes little-endian
// float32 ('<f4'), int64 ('<i8') and uint64 ('<u8') arrays.
#ifndef PSREC_COMMON_NPY_H_
#define PSREC_COMMON_NPY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace psrec {

// The whole .npy file for `data`, the raw little-endian bytes of an array of
// `shape` (C order) and element type `descr`. InvalidArgument when `descr` is
// not one psrec knows or data's size is not the shape's.
absl::StatusOr<std::string> EncodeNpy(absl::string_view descr, absl::Span<const uint64_t> shape,
                                      absl::string_view data);

// EncodeNpy, written to `path` atomically.
absl::Status WriteNpy(const std::string& path, absl::string_view descr,
                      absl::Span<const uint64_t> shape, absl::string_view data);

// The raw bytes of a span of numbers, for EncodeNpy/WriteNpy (psrec assumes a
// little-endian host, as its wire format does).
template <typename T>
absl::string_view AsBytes(absl::Span<const T> values) {
  return absl::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

struct NpyArray {
  std::string descr;  // e.g. "<f4"
  bool fortran_order = false;
  std::vector<uint64_t> shape;
  std::string data;  // raw bytes, product(shape) x item size
};

// Parses a .npy file (versions 1.0, 2.0 and 3.0) whose descr is one of
// '<f4', '<f8', '<i4', '<i8', '<u4', '<u8', '|u1', '|i1', '|b1'. Errors
// (InvalidArgument) name `source`; garbage never crashes.
absl::StatusOr<NpyArray> ParseNpy(absl::string_view bytes, const std::string& source);
absl::StatusOr<NpyArray> ReadNpy(const std::string& path);

}  // namespace psrec

#endif  // PSREC_COMMON_NPY_H_
