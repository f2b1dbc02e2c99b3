// Writes the binary seeds of the model_file and saved_model corpora (the
// text seeds are written by hand). Run from the normal build when the model
// file format changes:
//   cmake --build build --target psrec_fuzz_write_seeds
//   build/tests/fuzz/psrec_fuzz_write_seeds tests/fuzz/corpus
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "server/shard_state.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/model_fuzz_inputs.h"
#include "tests/worker/test_model_dir.h"

namespace psrec::fuzz {
namespace {

std::string ReadOrDie(const std::string& path) {
  auto bytes = ReadWholeFile(path);
  FUZZ_CHECK(bytes.ok(), bytes.status().ToString());
  return *bytes;
}

// A shard of ModelFileLayout() with a few rows in every table.
std::string ModelFileSeed(const std::string& scratch) {
  auto state = ShardState::Create(ModelFileLayout(), 0);
  FUZZ_CHECK(state.ok(), state.status().ToString());
  const float user[4] = {0.5f, -1.0f, 0.25f, 2.0f}, mlp[3] = {1, 2, 3}, bias[1] = {-0.5f};
  for (uint64_t id : {1u, 7u, 1000000u}) (*state)->table(0)->Insert(id, user);
  (*state)->table(1)->Insert(0, mlp);
  (*state)->table(3)->Insert(42, bias);
  auto saved = (*state)->Save(scratch);
  FUZZ_CHECK(saved.ok(), saved.status().ToString());
  return ReadOrDie(scratch + "/shard-0.psm");
}

// model.json, then each shard file, joined as saved_model_fuzz.cc splits them.
std::string SavedModelSeed(const std::string& dir, const std::string& model, uint32_t shards) {
  rpc::RunConfig config = testing_util::TestRunConfig(model, 4, 3.5);
  if (model == "neumf") {  // a tower: 2 x 4 mlp inputs, layers 8 and 4
    ModelOptions mo;
    mo.model = model;
    mo.dim = 4;
    mo.mlp_dim = 4;
    mo.layers = {8, 4};
    auto tables = TablesForModel(mo);
    FUZZ_CHECK(tables.ok(), tables.status().ToString());
    config.clear_tables();
    for (const TableConfig& t : *tables) *config.add_tables() = ToProto(t);
    config.set_mlp_dim(4);
    config.add_layers(8);
    config.add_layers(4);
  }
  std::vector<testing_util::TestRow> rows;
  for (const rpc::TableSpec& t : config.tables()) {
    std::vector<float> values(t.dim());
    for (size_t i = 0; i < values.size(); ++i) values[i] = 0.1f * static_cast<float>(i) - 0.2f;
    for (uint64_t id = 0; id < (t.dense() ? 1 : 3); ++id) rows.push_back({t.id(), id, values});
  }
  const auto st = testing_util::WriteTestModelDir(dir, config, shards, rows);
  FUZZ_CHECK(st.ok(), st.ToString());
  std::string seed = ReadOrDie(dir + "/model.json");
  for (uint32_t s = 0; s < shards; ++s) {
    seed += std::string(kPartSeparator) + ReadOrDie(absl::StrCat(dir, "/shard-", s, ".psm"));
  }
  return seed;
}

}  // namespace
}  // namespace psrec::fuzz

int main(int argc, char** argv) {
  using namespace psrec::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s tests/fuzz/corpus\n", argv[0]);
    return 2;
  }
  const std::string corpus = argv[1];
  const std::string shard = ModelFileSeed(FreshSubdir("model_file"));
  // The first byte is the target's flags: bit 0 fixes the checksum up.
  WriteFileOrDie(corpus + "/model_file/valid", std::string(1, '\0') + shard);
  WriteFileOrDie(corpus + "/model_file/valid_fix_crc", std::string(1, '\1') + shard);
  WriteFileOrDie(corpus + "/model_file/truncated", std::string(1, '\1') + shard.substr(0, 60));
  std::string flipped = shard;
  flipped[flipped.size() - 3] ^= 0x10;
  WriteFileOrDie(corpus + "/model_file/bad_crc", std::string(1, '\0') + flipped);
  std::string version1 = shard;
  version1[8] = 1;
  WriteFileOrDie(corpus + "/model_file/version1", std::string(1, '\1') + version1);
  WriteFileOrDie(corpus + "/saved_model/mf_2_shards",
                 std::string(1, '\0') + SavedModelSeed(FreshSubdir("mf"), "mf", 2));
  WriteFileOrDie(corpus + "/saved_model/neumf_1_shard",
                 std::string(1, '\0') + SavedModelSeed(FreshSubdir("neumf"), "neumf", 1));
  return 0;
}
