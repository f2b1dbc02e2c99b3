// ReadItemTitles: u.item, movies.dat, movies.csv or any id<DELIM>title file,
// plain or gzip, any encoding.
#include "common/item_titles.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace psrec;
  using namespace psrec::fuzz;
  const std::string path = ScratchDir() + "/titles";
  WriteFileOrDie(path, absl::string_view(reinterpret_cast<const char*>(data), size));
  auto titles = ReadItemTitles(path);
  if (!titles.ok()) return 0;
  for (const auto& [id, title] : *titles) {
    FUZZ_CHECK(title.find_first_of("\t\r\n") == std::string::npos,
               "a title keeps a tab or newline");
  }
  return 0;
}
