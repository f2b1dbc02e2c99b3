// ReadNegatives (NCF test.negative: "(user,item)\tneg\tneg...", plain or
// gzip). What reads must survive WriteNegatives and read back identically.
#include "common/data_reader.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace psrec;
  using namespace psrec::fuzz;
  const std::string path = ScratchDir() + "/test.negative";
  WriteFileOrDie(path, absl::string_view(reinterpret_cast<const char*>(data), size));
  auto cases = ReadNegatives(path);
  if (!cases.ok()) return 0;
  FUZZ_CHECK(!cases->empty(), "read OK but no ranking cases");
  const std::string copy = ScratchDir() + "/copy.negative";
  FUZZ_CHECK(WriteNegatives(copy, *cases).ok(), "WriteNegatives failed");
  auto again = ReadNegatives(copy);
  FUZZ_CHECK(again.ok(), "written negatives do not read back: " + again.status().ToString());
  FUZZ_CHECK(again->size() == cases->size(), "case count changed through write + read");
  for (size_t i = 0; i < cases->size(); ++i) {
    const RankingCase &a = (*cases)[i], &b = (*again)[i];
    FUZZ_CHECK(a.user == b.user && a.test_item == b.test_item && a.negatives == b.negatives,
               "a ranking case changed through write + read");
  }
  return 0;
}
