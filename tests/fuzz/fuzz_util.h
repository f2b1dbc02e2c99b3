// Helpers shared by the libFuzzer targets in tests/fuzz: carving typed values
// out of the fuzz bytes, a per-process scratch directory for readers that
// take paths, and checks that abort (a finding) rather than return.
#ifndef PSREC_TESTS_FUZZ_FUZZ_UTIL_H_
#define PSREC_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

// Every target defines this; libFuzzer or tests/fuzz/replay_main.cc calls it.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace psrec::fuzz {

// A property the code under test must keep, whatever the input: a failure is
// a bug, reported like a crash so libFuzzer saves the input.
#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                              \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

// Reads the fuzz bytes front to back; past the end every value is zero, so a
// target never has to check the length.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? static_cast<uint8_t>(data_[pos_++]) : 0; }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{Byte()} << (8 * i);
    return v;
  }
  float Float() {
    const uint32_t bits = U32();
    float f;
    std::memcpy(&f, &bits, sizeof(f));
    return f;
  }
  // Up to n bytes (fewer at the end of the input).
  std::string Bytes(size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    std::string out(data_ + pos_, n);
    pos_ += n;
    return out;
  }
  std::string Rest() { return Bytes(size_); }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

// The input split at every occurrence of `separator` (the seeds use
// kPartSeparator to hold several files in one input).
inline constexpr absl::string_view kPartSeparator = "\n--8<--\n";
std::vector<std::string> SplitParts(absl::string_view data, size_t max_parts);

// A directory private to this process, removed at exit. Readers that take a
// path get the fuzz bytes through files in it.
const std::string& ScratchDir();
// ScratchDir()/name, emptied and recreated.
std::string FreshSubdir(const std::string& name);
void WriteFileOrDie(const std::string& path, absl::string_view bytes);

}  // namespace psrec::fuzz

#endif  // PSREC_TESTS_FUZZ_FUZZ_UTIL_H_
