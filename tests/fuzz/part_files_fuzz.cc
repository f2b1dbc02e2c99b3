// ReadInteractions on a Spark-style part directory: the input (after an
// options byte) is split at "\n--8<--\n" into up to four part files, any of
// which may be gzip (a fuzzed gzip member), empty or header-only, written
// beside _SUCCESS and a .crc file that must be ignored.
#include <string>

#include "absl/strings/str_format.h"
#include "common/data_reader.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/reader_options_from.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace psrec;
  using namespace psrec::fuzz;
  FuzzInput in(data, size);
  const ReaderOptions options = OptionsFrom(in.Byte(), 0);
  const std::string dir = FreshSubdir("parts");
  const std::vector<std::string> parts = SplitParts(in.Rest(), 4);
  for (size_t i = 0; i < parts.size(); ++i) {
    WriteFileOrDie(absl::StrFormat("%s/part-%05d-0c6f.csv", dir, i), parts[i]);
  }
  WriteFileOrDie(dir + "/_SUCCESS", "");
  WriteFileOrDie(dir + "/.part-00000-0c6f.csv.crc", "\x01\x02garbage");
  auto rows = ReadInteractions(dir, options);
  if (rows.ok()) FUZZ_CHECK(!rows->empty(), "read OK but no interactions");
  return 0;
}
