// Replays a fuzz target's regression corpus without libFuzzer, so the normal
// (gcc) build runs every seed and every fixed crash on each `make test`.
// Usage: TARGET_replay DIR_OR_FILE...; fails when an argument holds no input.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_util.h"

namespace {

std::vector<std::string> InputsOf(const std::string& arg) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  if (fs::is_directory(arg)) {
    for (const auto& e : fs::directory_iterator(arg)) {
      if (e.is_regular_file()) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
  } else if (fs::is_regular_file(arg)) {
    files.push_back(arg);
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  size_t replayed = 0;
  for (int a = 1; a < argc; ++a) {
    const std::vector<std::string> files = InputsOf(argv[a]);
    if (files.empty()) {
      std::fprintf(stderr, "%s: no inputs (a missing or empty corpus)\n", argv[a]);
      return 1;
    }
    for (const std::string& f : files) {
      std::ifstream in(f, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      std::fprintf(stderr, "replaying %s (%zu bytes)\n", f.c_str(), bytes.size());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  std::fprintf(stderr, "%zu inputs replayed, no failure\n", replayed);
  return 0;
}
