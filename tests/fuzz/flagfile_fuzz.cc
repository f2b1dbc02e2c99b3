// ExpandFlagfiles over in-memory files: the input splits at "\n--8<--\n"
// into a command line (one argument per line) and the files "a" and "b",
// which may name each other (or themselves) with --flagfile. Expansion must
// end, and its output holds no --flagfile flag.
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "cli/flagfile.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace psrec;
  using namespace psrec::fuzz;
  const std::vector<std::string> parts =
      SplitParts(absl::string_view(reinterpret_cast<const char*>(data), size), 3);
  std::vector<std::string> args = absl::StrSplit(parts[0], '\n');
  const FlagfileReader read = [&](const std::string& path) -> absl::StatusOr<std::string> {
    if (path == "a" && parts.size() > 1) return parts[1];
    if (path == "b" && parts.size() > 2) return parts[2];
    return absl::NotFoundError(path + ": cannot read (--flagfile)");
  };
  auto expanded = ExpandFlagfiles(args, read);
  if (!expanded.ok()) return 0;
  for (const std::string& a : *expanded) {
    FUZZ_CHECK(!absl::StartsWith(a, "--flagfile=") && a != "--flagfile",
               "expanded flags still hold " + a);
  }
  return 0;
}
