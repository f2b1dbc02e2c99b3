// ReadModelShard on any bytes, into the tables of a fixed model layout. The
// first byte's low bit asks for the checksum to be fixed up, so the header
// and layout checks are reached. A shard that reads must write back and read
// again with the same rows.
#include <memory>
#include <vector>

#include "server/model_file.h"
#include "server/shard_state.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/model_fuzz_inputs.h"

namespace psrec::fuzz {
namespace {

std::vector<EmbeddingTable*> TablesOf(const ShardState& s) {
  std::vector<EmbeddingTable*> tables;
  for (size_t i = 0; i < s.num_tables(); ++i) tables.push_back(s.table(static_cast<uint32_t>(i)));
  return tables;
}

uint64_t TotalRows(const ShardState& s) {
  uint64_t rows = 0;
  for (EmbeddingTable* t : TablesOf(s)) rows += t != nullptr ? t->rows() : 0;
  return rows;
}

}  // namespace
}  // namespace psrec::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace psrec;
  using namespace psrec::fuzz;
  FuzzInput in(data, size);
  const bool fix_crc = in.Byte() & 1;
  std::string bytes = in.Rest();
  if (fix_crc) bytes = WithValidCrc(std::move(bytes));
  const std::string path = ScratchDir() + "/shard-0.psm";
  WriteFileOrDie(path, bytes);
  static const rpc::RunConfig kLayout = ModelFileLayout();
  auto state = ShardState::Create(kLayout, 0);
  FUZZ_CHECK(state.ok(), state.status().ToString());
  auto info = ReadModelShard(path, TablesOf(**state));
  if (!info.ok()) {
    FUZZ_CHECK(TotalRows(**state) == 0, "a refused shard inserted rows");
    return 0;
  }
  FUZZ_CHECK(TotalRows(**state) <= info->rows, "more rows than the file holds");
  auto saved = (*state)->Save(ScratchDir() + "/resaved");
  FUZZ_CHECK(saved.ok(), saved.status().ToString());
  auto copy = ShardState::Create(kLayout, 0);
  auto again = ReadModelShard(ScratchDir() + "/resaved/shard-0.psm", TablesOf(**copy));
  FUZZ_CHECK(again.ok(), "a re-saved shard does not read: " + again.status().ToString());
  FUZZ_CHECK(again->rows == TotalRows(**state) && TotalRows(**copy) == TotalRows(**state),
             "rows changed through save + read");
  return 0;
}
