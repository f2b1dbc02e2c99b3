#include "worker/saved_model.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/config_proto.h"
#include "worker/model_manifest.h"

namespace psrec {

SavedModel::SavedModel(std::string dir, uint32_t num_shards, uint64_t rows,
                       std::unique_ptr<ShardState> state, std::unique_ptr<Model> model)
    : dir_(std::move(dir)),
      num_shards_(num_shards),
      rows_(rows),
      state_(std::move(state)),
      model_(std::move(model)),
      ps_(state_.get()) {}

absl::StatusOr<std::unique_ptr<SavedModel>> SavedModel::Load(const std::string& dir) {
  auto manifest = ReadModelManifest(dir);
  if (!manifest.ok()) return manifest.status();
  const rpc::RunConfig& config = manifest->config;
  // Training folds the term into the user rows and drops y; an unfolded
  // model would score without it, silently (worker/implicit_fold.h).
  if (config.implicit_feedback()) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir, "/model.json: implicit feedback was not folded into the user rows (the run "
             "stopped while saving?); retrain with --model_out"));
  }
  auto state = ShardState::Create(config, 0);
  if (!state.ok()) return state.status();
  auto rows = (*state)->LoadAll(dir, manifest->num_shards);
  if (!rows.ok()) return rows.status();
  auto model = Model::FromConfig(config);
  if (!model.ok()) {
    return absl::Status(model.status().code(),
                        absl::StrCat(dir, "/model.json: ", model.status().message()));
  }
  return std::unique_ptr<SavedModel>(
      new SavedModel(dir, manifest->num_shards, *rows, std::move(*state), std::move(*model)));
}

std::vector<uint64_t> SavedModel::SortedIds(uint32_t table) const {
  std::vector<uint64_t> ids;
  const EmbeddingTable* t = state_->table(table);
  if (t == nullptr) return ids;
  ids.reserve(t->rows());
  t->ForEach([&](uint64_t id, const float*) { ids.push_back(id); });
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool SavedModel::HasRow(uint32_t table, uint64_t id) const {
  EmbeddingTable* t = state_->table(table);
  if (t == nullptr) return false;
  std::vector<float> row(t->dim());
  uint8_t found = 0;
  t->Pull({&id, 1}, row.data(), &found);
  return found != 0;
}

}  // namespace psrec
