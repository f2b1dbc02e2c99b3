#include "tests/fuzz/fuzz_util.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace psrec::fuzz {
namespace {

class ScratchDirectory {
 public:
  ScratchDirectory() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/psrec-fuzz-XXXXXX";
    FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr, "cannot create a scratch directory");
    path_ = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

std::vector<std::string> SplitParts(absl::string_view data, size_t max_parts) {
  std::vector<std::string> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t at = data.find(kPartSeparator);
    if (at == absl::string_view::npos) break;
    parts.emplace_back(data.substr(0, at));
    data.remove_prefix(at + kPartSeparator.size());
  }
  parts.emplace_back(data);
  return parts;
}

const std::string& ScratchDir() {
  static const ScratchDirectory dir;  // removed when the process exits normally
  return dir.path();
}

std::string FreshSubdir(const std::string& name) {
  const std::string path = ScratchDir() + "/" + name;
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
  FUZZ_CHECK(std::filesystem::create_directories(path, ignored), "cannot create " + path);
  return path;
}

void WriteFileOrDie(const std::string& path, absl::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  FUZZ_CHECK(out.good(), "cannot write " + path);
}

}  // namespace psrec::fuzz
