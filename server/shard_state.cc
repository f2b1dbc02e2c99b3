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
  auto s = WriteModelShard(absl::StrFormat("%s/shard-%d.psm", dir, shard_index_), config_,
                           shard_index_, tables);
  if (!s.ok()) return s;
  return rows;
}

absl::StatusOr<uint64_t> ShardState::LoadAll(const std::string& dir, uint32_t num_shards) {
  std::vector<EmbeddingTable*> tables;
  for (const auto& t : tables_) tables.push_back(t.get());
  uint64_t total = 0;
  rpc::RunConfig first_config;
  for (uint32_t i = 0; i < num_shards; ++i) {
    const std::string path = absl::StrFormat("%s/shard-%d.psm", dir, i);
    if (!FileExists(path)) {
      return absl::NotFoundError(absl::StrFormat(
          "%s: missing; model.json lists %d shard files (shard-0.psm .. shard-%d.psm)", path,
          num_shards, num_shards - 1));
    }
    auto info = ReadModelShard(path, tables);
    if (!info.ok()) return info.status();
    if (info->config.model() != config_.model()) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: holds a '%s' model, model.json describes a '%s' model", path,
                          info->config.model(), config_.model()));
    }
    if (info->shard_index != i) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: is shard %d of its model, not shard %d", path, info->shard_index, i));
    }
    // Every server of a run got the same configuration from the coordinator:
    // a difference means shard files of two runs were mixed.
    if (i == 0) {
      first_config = std::move(info->config);
    } else if (info->config.SerializeAsString() != first_config.SerializeAsString()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: written by another training run than %s/shard-0.psm (their configurations "
          "differ)",
          path, dir));
    }
    total += info->rows;
  }
  return total;
}

}  // namespace psrec
