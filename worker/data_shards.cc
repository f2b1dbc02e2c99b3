#include "worker/data_shards.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_format.h"
#include "common/config_proto.h"
#include "common/hash.h"
#include "common/interaction_stream.h"
#include "common/part_files.h"

namespace psrec {

uint32_t DataShardOf(uint64_t user, uint32_t shards) {
  return static_cast<uint32_t>(Mix64(user ^ 0x64617461ULL) % shards);
}

// Into `one_shard` when given (a part file), else into each user's bucket.
absl::Status DataShards::Add(absl::Span<const Interaction> rows, ShardRows* one_shard) {
  for (const Interaction& x : rows) {
    auto user = users_.Intern(x.user);
    if (!user.ok()) return user.status();
    auto item = items_.Intern(x.item);
    if (!item.ok()) return item.status();
    ShardRows& shard =
        one_shard != nullptr ? *one_shard : *buckets_[DataShardOf(x.user, num_shards_)];
    shard.push_back({*user, *item, x.rating});
    if (recency_.enabled()) shard.push_timestamp(x.timestamp);
  }
  held_ += rows.size();
  return absl::OkStatus();
}

void DataShards::FinishRecency() {
  for (auto& [s, rows] : shards_) rows.FinishRecency(recency_);
}

absl::StatusOr<std::unique_ptr<DataShards>> DataShards::FromInteractions(
    std::vector<Interaction> train, uint32_t num_shards, const RecencyOptions& recency) {
  auto d = std::unique_ptr<DataShards>(new DataShards());
  d->num_shards_ = std::max<uint32_t>(1, num_shards);
  d->recency_ = recency;
  for (uint32_t s = 0; s < d->num_shards_; ++s) d->buckets_.push_back(&d->shards_[s]);
  if (auto s = d->Add(train, nullptr); !s.ok()) return s;
  train = std::vector<Interaction>();
  d->FinishRecency();
  d->users_.Seal();
  d->items_.Seal();
  return d;
}

absl::StatusOr<std::unique_ptr<DataShards>> DataShards::FromTrainingFile(
    const rpc::RunConfig& config) {
  auto d = std::unique_ptr<DataShards>(new DataShards());
  d->num_shards_ = std::max<uint32_t>(1, config.data_shards());
  d->recency_ = RecencyFromConfig(config);
  for (uint32_t s = 0; s < d->num_shards_; ++s) d->buckets_.push_back(&d->shards_[s]);
  DataShards* shards = d.get();
  absl::Status s = StreamInteractions(
      config.train_path(), ReaderOptionsFromConfig(config),
      [shards](absl::Span<const Interaction> rows) { return shards->Add(rows, nullptr); });
  if (!s.ok()) return s;
  d->FinishRecency();
  d->users_.Seal();
  d->items_.Seal();
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
  d->recency_ = RecencyFromConfig(config);
  return d;
}

absl::StatusOr<ShardView> DataShards::Shard(uint32_t s, bool* first_read) {
  *first_read = false;
  if (s >= num_shards_) {
    return absl::OutOfRangeError(
        absl::StrFormat("data shard %d leased, but the run has %d", s, num_shards_));
  }
  if (auto it = shards_.find(s); it != shards_.end()) return View(it->second);
  // A part that fails half-way leaves nothing behind: it is read whole or not at all.
  ShardRows part;
  const size_t held_before = held_;
  absl::Status read = StreamInteractions(
      part_paths_[s], ReaderOptionsFromConfig(config_),
      [this, &part](absl::Span<const Interaction> rows) { return Add(rows, &part); });
  // An empty or header-only part is an empty shard.
  if (!read.ok() && read.message() != part_paths_[s] + ": no interactions") {
    held_ = held_before;
    return read;
  }
  spdlog::info("data shard {}: read {} ({} interactions)", s, part_paths_[s], part.size());
  *first_read = true;
  // A user spread over several parts is weighted within each part.
  part.FinishRecency(recency_);
  return View(shards_.emplace(s, std::move(part)).first->second);
}

std::vector<ShardView> DataShards::HeldShards() const {
  std::vector<ShardView> views;
  for (const auto& [s, rows] : shards_) views.push_back(View(rows));
  return views;
}

}  // namespace psrec
