#include "worker/data_shards.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_format.h"
#include "common/config_proto.h"
#include "common/data_reader.h"
#include "common/hash.h"
#include "common/part_files.h"

namespace psrec {

uint32_t DataShardOf(uint64_t user, uint32_t shards) {
  return static_cast<uint32_t>(Mix64(user ^ 0x64617461ULL) % shards);
}

std::unique_ptr<DataShards> DataShards::FromInteractions(std::vector<Interaction> train,
                                                         uint32_t num_shards) {
  auto d = std::unique_ptr<DataShards>(new DataShards());
  d->num_shards_ = std::max<uint32_t>(1, num_shards);
  for (uint32_t s = 0; s < d->num_shards_; ++s) d->shards_[s];
  for (const Interaction& x : train) d->shards_[DataShardOf(x.user, d->num_shards_)].push_back(x);
  d->held_ = train.size();
  return d;
}

absl::StatusOr<std::unique_ptr<DataShards>> DataShards::FromPartFiles(
    const rpc::RunConfig& config) {
  auto parts = ListPartFiles(config.train_path());
  if (!parts.ok()) return parts.status();
  if (parts->size() != config.data_shards()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s holds %d part files, but the run has %d data shards (one per part file when the "
        "coordinator read it): did the directory change?",
        config.train_path(), parts->size(), config.data_shards()));
  }
  auto d = std::unique_ptr<DataShards>(new DataShards());
  d->num_shards_ = config.data_shards();
  d->part_paths_ = std::move(*parts);
  d->config_ = config;
  return d;
}

absl::StatusOr<absl::Span<const Interaction>> DataShards::Shard(uint32_t s, bool* first_read) {
  *first_read = false;
  if (s >= num_shards_) {
    return absl::OutOfRangeError(
        absl::StrFormat("data shard %d leased, but the run has %d", s, num_shards_));
  }
  if (auto it = shards_.find(s); it != shards_.end()) {
    return absl::Span<const Interaction>(it->second);
  }
  auto part = ReadInteractions(part_paths_[s], ReaderOptionsFromConfig(config_));
  if (!part.ok()) return part.status();
  spdlog::info("data shard {}: read {} ({} interactions)", s, part_paths_[s], part->size());
  *first_read = true;
  held_ += part->size();
  return absl::Span<const Interaction>(shards_.emplace(s, std::move(*part)).first->second);
}

}  // namespace psrec
