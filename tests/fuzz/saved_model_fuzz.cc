// SavedModel::Load on a model directory made from the input: after a flags
// byte, the bytes split at "\n--8<--\n" into model.json, shard-0.psm and
// shard-1.psm (flag bit 0: fix the shards' checksums up, so their headers and
// layouts are looked at).
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/model_fuzz_inputs.h"
#include "worker/saved_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace psrec;
  using namespace psrec::fuzz;
  FuzzInput in(data, size);
  const bool fix_crc = in.Byte() & 1;
  const std::string dir = FreshSubdir("model");
  const std::vector<std::string> parts = SplitParts(in.Rest(), 3);
  WriteFileOrDie(dir + "/model.json", parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    WriteFileOrDie(absl::StrCat(dir, "/shard-", i - 1, ".psm"),
                   fix_crc ? WithValidCrc(parts[i]) : parts[i]);
  }
  auto model = SavedModel::Load(dir);
  if (!model.ok()) return 0;
  FUZZ_CHECK((*model)->num_shards() >= 1, "a model without shards loaded");
  (void)(*model)->SortedIds(0);
  return 0;
}
