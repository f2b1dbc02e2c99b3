#include "server/shard_state.h"

#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/config_proto.h"
#include "server/model_file.h"

namespace psrec {

absl::StatusOr<std::unique_ptr<ShardState>> ShardState::Create(const rpc::RunConfig& config,
                                                              uint32_t shard_index) {
  auto state = std::unique_ptr<ShardState>(new ShardState());
  state->config_ = config;
  state->shard_index_ = shard_index;
  OptimizerOptions oo;
  oo.name = config.optimizer();
  oo.lr = config.lr();
  if (config.adam_beta1() > 0) oo.beta1 = config.adam_beta1();
  if (config.adam_beta2() > 0) oo.beta2 = config.adam_beta2();
  if (config.epsilon() > 0) oo.epsilon = config.epsilon();
  auto opt = MakeOptimizer(oo);
  if (!opt.ok()) return opt.status();
  state->optimizer_ = std::move(*opt);
  for (const rpc::TableSpec& spec : config.tables()) {
    if (spec.id() >= 64 || spec.dim() == 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("table %s: id %d dim %d out of range", spec.name(), spec.id(), spec.dim()));
    }
    if (state->tables_.size() <= spec.id()) state->tables_.resize(spec.id() + 1);
    state->tables_[spec.id()] = std::make_unique<EmbeddingTable>(
        FromProto(spec), state->optimizer_.get(), config.seed());
  }
  return state;
}

absl::StatusOr<uint64_t> ShardState::Save(const std::string& dir) const {
  if (auto s = MakeDirs(dir); !s.ok()) return s;
  std::vector<const EmbeddingTable*> tables;
  uint64_t rows = 0;
  for (const auto& t : tables_) {
    if (t) {
      tables.push_back(t.get());
      rows += t->rows();
    }
  }
  auto s = WriteModelShard(absl::StrFormat("%s/shard-%d.psm", dir, shard_index_), tables);
  if (!s.ok()) return s;
  return rows;
}

absl::StatusOr<uint64_t> ShardState::LoadAll(const std::string& dir, uint32_t num_shards) {
  std::vector<EmbeddingTable*> tables;
  for (const auto& t : tables_) tables.push_back(t.get());
  uint64_t total = 0;
  for (uint32_t i = 0; i < num_shards; ++i) {
    uint64_t rows = 0;
    auto s = ReadModelShard(absl::StrFormat("%s/shard-%d.psm", dir, i), tables, &rows);
    if (!s.ok()) return s;
    total += rows;
  }
  return total;
}

}  // namespace psrec
