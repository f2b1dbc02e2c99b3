// ParseNpy on any bytes; an array that parses must encode (EncodeNpy) and
// parse back to the same descr, shape and data.
#include "common/npy.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace psrec;
  using namespace psrec::fuzz;
  auto array = ParseNpy(absl::string_view(reinterpret_cast<const char*>(data), size), "fuzz.npy");
  if (!array.ok()) return 0;
  auto encoded = EncodeNpy(array->descr, array->shape, array->data);
  if (!encoded.ok()) {
    // Only a header that cannot fit in format 1.0's u16 length may fail.
    FUZZ_CHECK(array->shape.size() > 1000,
               "EncodeNpy refused a parsed array: " + encoded.status().ToString());
    return 0;
  }
  auto again = ParseNpy(*encoded, "encoded.npy");
  FUZZ_CHECK(again.ok(), "EncodeNpy output does not parse: " + again.status().ToString());
  FUZZ_CHECK(again->descr == array->descr && again->shape == array->shape &&
                 again->data == array->data && !again->fortran_order,
             "an array changed through encode + parse");
  return 0;
}
