// A model directory written by --model_out (model.json + shard files), loaded
// whole into this process: the run configuration it was trained with, every
// row in one ShardState, read through an in-process PsClient, and the Model
// that scores with those rows. Used by `psrec eval`, `recommend` and `export`.
#ifndef PSREC_WORKER_SAVED_MODEL_H_
#define PSREC_WORKER_SAVED_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/psrec.pb.h"
#include "server/shard_state.h"
#include "worker/local_ps_client.h"
#include "worker/models.h"

namespace psrec {

class SavedModel {
 public:
  // Errors name the file at fault (model.json or a shard file): no model, a
  // version this psrec does not read, truncation, checksum, a layout that
  // disagrees with model.json, a missing shard.
  static absl::StatusOr<std::unique_ptr<SavedModel>> Load(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const rpc::RunConfig& config() const { return state_->config(); }
  uint32_t num_shards() const { return num_shards_; }
  uint64_t rows() const { return rows_; }
  const Model& model() const { return *model_; }
  // Read-only lookups never create rows; Push would train the loaded copy.
  PsClient* ps() { return &ps_; }

  // The ids of a table's rows, ascending (empty for an unknown table).
  std::vector<uint64_t> SortedIds(uint32_t table) const;
  bool HasRow(uint32_t table, uint64_t id) const;

 private:
  SavedModel(std::string dir, uint32_t num_shards, uint64_t rows, std::unique_ptr<ShardState> state,
             std::unique_ptr<Model> model);

  std::string dir_;
  uint32_t num_shards_;
  uint64_t rows_;
  std::unique_ptr<ShardState> state_;
  std::unique_ptr<Model> model_;
  LocalPsClient ps_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_SAVED_MODEL_H_
