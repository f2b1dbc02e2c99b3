// One server's shard of every table of a run, with its optimizer. Shared by
// the gRPC service and by in-process clients (model loading, single-process).
#ifndef PSREC_SERVER_SHARD_STATE_H_
#define PSREC_SERVER_SHARD_STATE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/psrec.pb.h"
#include "server/embedding_table.h"
#include "server/optimizer.h"

namespace psrec {

class ShardState {
 public:
  static absl::StatusOr<std::unique_ptr<ShardState>> Create(const rpc::RunConfig& config,
                                                            uint32_t shard_index);
  // nullptr when the table id is unknown.
  EmbeddingTable* table(uint32_t id) const {
    return id < tables_.size() ? tables_[id].get() : nullptr;
  }
  size_t num_tables() const { return tables_.size(); }
  float lr() const { return optimizer_->lr(); }
  const Optimizer& optimizer() const { return *optimizer_; }
  uint32_t shard_index() const { return shard_index_; }
  const rpc::RunConfig& config() const { return config_; }

  // Writes DIR/shard-<index>.psm (format in README "Model files").
  absl::StatusOr<uint64_t> Save(const std::string& dir) const;

  // Reads DIR/shard-0.psm .. shard-(num_shards-1).psm into this state's
  // tables (a whole model in one process). Returns the number of rows read.
  // Errors name the file: a missing shard, any ReadModelShard error, a shard
  // of another model type or index, shards of different runs mixed.
  absl::StatusOr<uint64_t> LoadAll(const std::string& dir, uint32_t num_shards);

 private:
  ShardState() = default;
  rpc::RunConfig config_;
  uint32_t shard_index_ = 0;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<std::unique_ptr<EmbeddingTable>> tables_;
};

}  // namespace psrec

#endif  // PSREC_SERVER_SHARD_STATE_H_
