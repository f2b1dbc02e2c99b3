// ReadInteractions on one file (plain or gzip; csv, tsv, ML-100K u.data,
// ML-1M ratings.dat, NCF, with or without a header) with reader options
// chosen by the first two input bytes; the rest is the file. What reads must
// survive WriteInteractions and read back identically.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/data_reader.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/reader_options_from.h"

namespace psrec::fuzz {

bool SameRows(const std::vector<Interaction>& a, const std::vector<Interaction>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].user != b[i].user || a[i].item != b[i].item || a[i].rating != b[i].rating ||
        a[i].timestamp != b[i].timestamp) {
      return false;
    }
  }
  return true;
}

}  // namespace psrec::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace psrec;
  using namespace psrec::fuzz;
  FuzzInput in(data, size);
  const uint8_t b0 = in.Byte();
  const ReaderOptions options = OptionsFrom(b0, in.Byte());
  const std::string path = ScratchDir() + "/interactions";
  WriteFileOrDie(path, in.Rest());
  auto rows = ReadInteractions(path, options);
  if (!rows.ok()) {
    FUZZ_CHECK(!rows.status().message().empty(), "an error without a message");
    return 0;
  }
  FUZZ_CHECK(!rows->empty(), "read OK but no interactions");
  const std::string copy = ScratchDir() + ((b0 & 1) ? "/copy.tsv.gz" : "/copy.tsv");
  FUZZ_CHECK(WriteInteractions(copy, *rows).ok(), "WriteInteractions failed");
  auto again = ReadInteractions(copy, ReaderOptions());
  FUZZ_CHECK(again.ok(), "written interactions do not read back: " + again.status().ToString());
  FUZZ_CHECK(SameRows(*rows, *again), "interactions changed through write + read");
  return 0;
}
