// The data shards a worker trains, by the shard index the coordinator leases.
// Either every interaction is read up front (one streaming pass over the
// training file) and bucketed by a hash of the user (a shard holds all of a
// user's interactions), or, for a directory of Spark part files
// (RunConfig.part_file_shards), shard s is part file s and is read the first
// time it is leased: workers read the data in parallel and each holds only
// the parts it trained. Rows are held compactly (worker/shard_rows.h).
#ifndef PSREC_WORKER_DATA_SHARDS_H_
#define PSREC_WORKER_DATA_SHARDS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dataset.h"
#include "common/recency.h"
#include "proto/psrec.pb.h"
#include "worker/shard_rows.h"

namespace psrec {

// The data shard of a user when shards are buckets of the whole file: by
// user, so that a shard holds all of a user's interactions.
uint32_t DataShardOf(uint64_t user, uint32_t shards);

class DataShards {
 public:
  // Buckets `train` (the run's training part, validation removed) and
  // frees it.
  // `recency`: per-row weights (common/recency.h), computed per shard.
  static absl::StatusOr<std::unique_ptr<DataShards>> FromInteractions(
      std::vector<Interaction> train, uint32_t num_shards, const RecencyOptions& recency = {});
  // Streams config.train_path() once into config.data_shards() buckets,
  // holding nothing but the compact rows (no validation split: with one,
  // read the split and use FromInteractions). Errors name FILE:LINE.
  static absl::StatusOr<std::unique_ptr<DataShards>> FromTrainingFile(const rpc::RunConfig& config);
  // One shard per part file of config.train_path(), read on first use. The
  // directory must still hold config.data_shards() part files.
  static absl::StatusOr<std::unique_ptr<DataShards>> FromPartFiles(const rpc::RunConfig& config);

  // The interactions of shard `s`. `*first_read` says whether this call read
  // them from disk (the caller teaches its negative sampler the positives).
  absl::StatusOr<ShardView> Shard(uint32_t s, bool* first_read);
  // Every shard held now (all of them, or the parts read so far).
  std::vector<ShardView> HeldShards() const;
  // Interactions held now (all of them, or those of the parts read so far).
  size_t held() const { return held_; }
  uint32_t num_shards() const { return num_shards_; }
  bool lazy() const { return !part_paths_.empty(); }

 private:
  DataShards() = default;
  absl::Status Add(absl::Span<const Interaction> rows, ShardRows* one_shard);
  // Turns the shards' timestamps into recency weights.
  void FinishRecency();
  ShardView View(const ShardRows& rows) const { return ShardView(&rows, &users_, &items_); }

  uint32_t num_shards_ = 0;
  size_t held_ = 0;
  IdTable users_;
  IdTable items_;
  // By shard: every bucket (eager), or the parts read so far (lazy).
  std::map<uint32_t, ShardRows> shards_;
  std::vector<ShardRows*> buckets_;      // eager: shards_ by index, for Add()
  std::vector<std::string> part_paths_;  // lazy: the part file of each shard
  rpc::RunConfig config_;
  RecencyOptions recency_;
};

}  // namespace psrec

#endif  // PSREC_WORKER_DATA_SHARDS_H_
