// Interaction reader options chosen by two fuzz bytes, shared by the
// interaction-file and part-directory targets.
#ifndef PSREC_TESTS_FUZZ_READER_OPTIONS_FROM_H_
#define PSREC_TESTS_FUZZ_READER_OPTIONS_FROM_H_

#include <cstdint>

#include "common/data_reader.h"

namespace psrec::fuzz {

inline ReaderOptions OptionsFrom(uint8_t b, uint8_t cols) {
  static const char* const kFormats[] = {"auto", "tsv", "csv", "dat", "ncf", "delimited"};
  ReaderOptions o;
  o.format = kFormats[b % 6];
  o.header = (b >> 3) % 3 - 1;  // detect, none, one
  o.implicit = b & 0x20;
  if (b & 0x40) o.delimiter = (b & 0x80) ? ";" : " ";
  // Mostly detected columns; sometimes pinned, possibly clashing or far out.
  if (cols & 0x01) o.user_col = (cols >> 1) % 4;
  if (cols & 0x08) o.item_col = (cols >> 4) % 4;
  if (cols & 0x40) o.rating_col = 2 + (cols >> 7);
  return o;
}

}  // namespace psrec::fuzz

#endif  // PSREC_TESTS_FUZZ_READER_OPTIONS_FROM_H_
