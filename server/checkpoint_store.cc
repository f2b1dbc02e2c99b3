#include "server/checkpoint_store.h"

#include <dirent.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "server/model_file.h"

namespace psrec {
namespace {

std::vector<const EmbeddingTable*> TablesOf(const ShardState& shard) {
  std::vector<const EmbeddingTable*> out;
  for (size_t i = 0; i < shard.num_tables(); ++i) {
    if (const EmbeddingTable* t = shard.table(static_cast<uint32_t>(i))) out.push_back(t);
  }
  return out;
}

std::vector<EmbeddingTable*> MutableTablesOf(const ShardState& shard) {
  std::vector<EmbeddingTable*> out;
  for (size_t i = 0; i < shard.num_tables(); ++i)
    out.push_back(shard.table(static_cast<uint32_t>(i)));
  return out;
}

}  // namespace

CheckpointStore::CheckpointStore(std::string dir, uint32_t shard_index)
    : dir_(absl::StrFormat("%s/shard-%d", dir, shard_index)), shard_index_(shard_index) {}

std::string CheckpointStore::RoundPath(uint64_t round) const {
  return absl::StrFormat("%s/round-%06d.psck", dir_, round);
}

std::string CheckpointStore::FinalPath() const { return dir_ + "/final.psck"; }

absl::StatusOr<uint64_t> CheckpointStore::WriteRound(uint64_t round,
                                                     const ShardState& shard) const {
  if (auto s = MakeDirs(dir_); !s.ok()) return s;
  return WriteCheckpointShard(RoundPath(round), shard.config(), shard_index_, {round, false},
                              TablesOf(shard));
}

absl::StatusOr<uint64_t> CheckpointStore::WriteFinal(uint64_t base_round,
                                                     const ShardState& shard) const {
  if (auto s = MakeDirs(dir_); !s.ok()) return s;
  return WriteCheckpointShard(FinalPath(), shard.config(), shard_index_, {base_round, true},
                              TablesOf(shard));
}

std::vector<uint64_t> CheckpointStore::Rounds() const {
  std::vector<uint64_t> rounds;
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return rounds;
  while (dirent* e = ::readdir(d)) {
    absl::string_view name = e->d_name;
    uint64_t r = 0;
    if (absl::ConsumePrefix(&name, "round-") && absl::ConsumeSuffix(&name, ".psck") &&
        absl::SimpleAtoi(name, &r)) {
      rounds.push_back(r);
    }
  }
  ::closedir(d);
  std::sort(rounds.begin(), rounds.end());
  return rounds;
}

void CheckpointStore::Prune(uint32_t keep, uint64_t last_complete) const {
  const std::vector<uint64_t> rounds = Rounds();
  uint32_t kept = 0;
  for (auto it = rounds.rbegin(); it != rounds.rend(); ++it) {
    if (*it > last_complete) continue;
    if (kept < std::max<uint32_t>(1, keep)) {
      ++kept;
      continue;
    }
    ::unlink(RoundPath(*it).c_str());
  }
}

absl::StatusOr<CheckpointRestore> CheckpointStore::Restore(uint64_t max_round, bool use_final,
                                                           ShardState* shard) const {
  CheckpointRestore out;
  const std::vector<EmbeddingTable*> tables = MutableTablesOf(*shard);
  auto try_file = [&](const std::string& path) -> absl::StatusOr<bool> {
    auto info = ReadCheckpointShard(path, tables);
    if (info.ok()) {
      out.rows = info->rows;
      out.path = path;
      return true;
    }
    // Damage is survivable (an older round will do); a file of another
    // layout means the directory belongs to another run.
    if (absl::IsDataLoss(info.status()) || absl::IsInvalidArgument(info.status())) {
      spdlog::warn("checkpoint {} is damaged, using an older one: {}", path,
                   std::string(info.status().message()));
      out.skipped.push_back(std::string(info.status().message()));
      return false;
    }
    return info.status();
  };
  if (use_final && FileExists(FinalPath())) {
    auto tag = ReadCheckpointTag(FinalPath());
    if (tag.ok() && tag->round == max_round) {
      auto used = try_file(FinalPath());
      if (!used.ok()) return used.status();
      if (*used) {
        out.round = max_round;
        out.from_final = true;
        ::unlink(FinalPath().c_str());  // used once: later state belongs to later rounds
        return out;
      }
    } else if (tag.ok()) {
      spdlog::info("{}: written after round {}, round {} completed since: not used", FinalPath(),
                   tag->round, max_round);
    }
  }
  if (max_round == 0) return out;
  const std::vector<uint64_t> rounds = Rounds();
  for (auto it = rounds.rbegin(); it != rounds.rend(); ++it) {
    if (*it > max_round) continue;  // written, but the round never completed
    auto used = try_file(RoundPath(*it));
    if (!used.ok()) return used.status();
    if (!*used) continue;
    out.round = *it;
    if (*it != max_round) {
      spdlog::warn("restored round {} instead of the newest complete round {} (see above)", *it,
                   max_round);
    }
    return out;
  }
  if (!rounds.empty() || max_round > 0) {
    spdlog::warn("no valid checkpoint of round <= {} in {}: starting from fresh parameters",
                 max_round, dir_);
  }
  return out;
}

}  // namespace psrec
