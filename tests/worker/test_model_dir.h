// Writes a small model directory the way `psrec train --model_out` does (one
// shard file per server plus model.json), from rows given by the test.
#ifndef PSREC_TESTS_WORKER_TEST_MODEL_DIR_H_
#define PSREC_TESTS_WORKER_TEST_MODEL_DIR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/config_proto.h"
#include "common/model_spec.h"
#include "proto/psrec.pb.h"
#include "server/shard_state.h"
#include "worker/model_manifest.h"

namespace psrec::testing_util {

struct TestRow {
  uint32_t table = 0;
  uint64_t id = 0;
  std::vector<float> values;
};

inline rpc::RunConfig TestRunConfig(const std::string& model, uint32_t dim, double global_mean) {
  rpc::RunConfig config;
  config.set_model(model);
  config.set_task(model == "mf" ? "rating" : "ranking");
  config.set_dim(dim);
  config.set_optimizer("sgd");
  config.set_lr(0.1f);
  config.set_seed(5);
  config.set_global_mean(global_mean);
  ModelOptions mo;
  mo.model = model;
  mo.dim = dim;
  auto tables = TablesForModel(mo);
  if (tables.ok()) {
    for (const TableConfig& t : *tables) *config.add_tables() = ToProto(t);
  }
  return config;
}

// Row (table, id) goes to shard id % shards, as if placed by a hash.
inline absl::Status WriteTestModelDir(const std::string& dir, const rpc::RunConfig& config,
                                      uint32_t shards, const std::vector<TestRow>& rows) {
  for (uint32_t s = 0; s < shards; ++s) {
    auto state = ShardState::Create(config, s);
    if (!state.ok()) return state.status();
    for (const TestRow& r : rows) {
      if (r.id % shards != s) continue;
      EmbeddingTable* t = (*state)->table(r.table);
      if (t == nullptr || t->dim() != r.values.size()) {
        return absl::InvalidArgumentError("test row does not fit its table");
      }
      t->Insert(r.id, r.values.data());
    }
    if (auto saved = (*state)->Save(dir); !saved.ok()) return saved.status();
  }
  return WriteModelManifest(dir, {config, shards});
}

}  // namespace psrec::testing_util

#endif  // PSREC_TESTS_WORKER_TEST_MODEL_DIR_H_
