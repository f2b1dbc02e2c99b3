// SavedModel::Load on a model directory made from the input: after a flags
// byte, the bytes split at "\n--8<--\n" into model.json, shard-0.psm and
// shard-1.psm (flag bit 0: fix the shards' checksums up, so their headers and
// layouts are looked at). A model that loads ranks two items for a user, so
// its tables and dense tensors are used by the scoring code.
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/model_fuzz_inputs.h"
#include "worker/recommender.h"
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
  std::vector<uint64_t> items = (*model)->SortedIds(1);
  items.resize(std::min<size_t>(items.size(), 2));
  items.push_back(uint64_t{1} << 40);  // one the model has no row for
  Recommender recommender(&(*model)->model(), (*model)->ps(), items);
  auto top = recommender.TopK(0, 2, {});
  if (top.ok()) FUZZ_CHECK(top->size() <= 2, "TopK(2) gave more than 2 items");
  return 0;
}
