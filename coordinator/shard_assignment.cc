#include "coordinator/shard_assignment.h"

#include <spdlog/spdlog.h>

namespace psrec {

ShardAssignment::ShardAssignment(uint32_t servers, uint32_t replicas, absl::Time now)
    : replicas_(replicas < 1 ? 1 : replicas),
      primaries_(servers),
      backups_(servers, kNone),
      joining_(servers, kNone),
      alive_(servers, true),
      seen_(servers, now) {
  for (uint32_t j = 0; j < servers; ++j) {
    primaries_[j] = j;
    if (replicas_ >= 2 && servers >= 2) backups_[j] = static_cast<int32_t>((j + 1) % servers);
  }
}

void ShardAssignment::Seen(uint32_t server, absl::Time now) {
  if (server < seen_.size()) seen_[server] = now;
}

bool ShardAssignment::ExpireSilent(absl::Time now, absl::Duration timeout) {
  bool changed = false;
  for (uint32_t s = 0; s < alive_.size(); ++s) {
    if (!alive_[s] || now - seen_[s] <= timeout) continue;
    spdlog::warn("server {} silent for {} (over --server_timeout_seconds={}): declared dead", s,
                 absl::FormatDuration(now - seen_[s]), absl::ToDoubleSeconds(timeout));
    changed = ServerDied(s) || changed;
  }
  return changed;
}

bool ShardAssignment::ServerDied(uint32_t server) {
  if (server >= alive_.size() || !alive_[server]) return false;
  alive_[server] = false;
  for (uint32_t j = 0; j < primaries_.size(); ++j) {
    if (joining_[j] == static_cast<int32_t>(server)) joining_[j] = kNone;
    if (backups_[j] == static_cast<int32_t>(server)) {
      backups_[j] = kNone;
      spdlog::warn("shard {}: backup server {} is dead; the shard runs degraded (no backup)", j,
                   server);
    }
    if (primaries_[j] != server) continue;
    if (backups_[j] == kNone) {
      spdlog::error("shard {}: primary server {} is dead and there is no backup: the shard is "
                    "lost until a checkpoint restores it",
                    j, server);
      continue;
    }
    primaries_[j] = static_cast<uint32_t>(backups_[j]);
    backups_[j] = kNone;
    joining_[j] = kNone;  // a copy from the dead primary cannot finish
    ++promotions_;
    spdlog::warn("shard {}: primary server {} is dead; backup server {} promoted to primary "
                 "(degraded: no backup until a server joins)",
                 j, server, primaries_[j]);
  }
  return true;
}

bool ShardAssignment::DropBackup(uint32_t shard, uint32_t backup) {
  if (shard < joining_.size() && joining_[shard] == static_cast<int32_t>(backup)) {
    joining_[shard] = kNone;
    spdlog::warn("shard {}: primary server {} could not reach joining server {}: its copy is "
                 "abandoned",
                 shard, primaries_[shard], backup);
    return true;
  }
  if (shard >= backups_.size() || backups_[shard] != static_cast<int32_t>(backup)) return false;
  backups_[shard] = kNone;
  spdlog::warn("shard {}: primary server {} could not reach backup server {}: backup dropped "
               "from the chain, the shard runs degraded",
               shard, primaries_[shard], backup);
  return true;
}

uint32_t ShardAssignment::AddServer(absl::Time now) {
  const uint32_t server = static_cast<uint32_t>(alive_.size());
  alive_.push_back(true);
  seen_.push_back(now);
  AssignJoiner(server);
  return server;
}

bool ShardAssignment::Revive(uint32_t server, absl::Time now) {
  if (server >= alive_.size() || alive_[server]) return false;
  // It comes back empty: whatever it held was reassigned when it died.
  alive_[server] = true;
  seen_[server] = now;
  AssignJoiner(server);
  return true;
}

bool ShardAssignment::AssignJoiner(uint32_t server) {
  if (replicas_ < 2) return false;
  bool any = false;
  for (uint32_t j = 0; j < primaries_.size(); ++j) {
    if (!alive_[primaries_[j]] || primaries_[j] == server || backups_[j] != kNone ||
        joining_[j] != kNone) {
      continue;
    }
    joining_[j] = static_cast<int32_t>(server);
    any = true;
    spdlog::info("shard {}: server {} joins and copies it from primary server {}", j, server,
                 primaries_[j]);
  }
  return any;
}

bool ShardAssignment::Joined(uint32_t shard, uint32_t server) {
  if (shard >= joining_.size() || joining_[shard] != static_cast<int32_t>(server)) return false;
  joining_[shard] = kNone;
  backups_[shard] = static_cast<int32_t>(server);
  spdlog::info("shard {}: server {} holds a full copy and is its backup now: no longer degraded",
               shard, server);
  return true;
}

void ShardAssignment::FillMap(rpc::ShardMap* map) const {
  map->set_replicas(replicas_);
  for (uint32_t p : primaries_) map->add_shard_primaries(p);
  for (int32_t b : backups_) map->add_shard_backups(b);
  for (bool a : alive_) map->add_server_alive(a);
  for (int32_t j : joining_) map->add_shard_joining(j);
}

uint32_t ShardAssignment::PrimariesOn(uint32_t server) const {
  uint32_t n = 0;
  for (uint32_t j = 0; j < primaries_.size(); ++j) n += primaries_[j] == server && alive_[server];
  return n;
}

uint32_t ShardAssignment::BackupsOn(uint32_t server) const {
  uint32_t n = 0;
  for (int32_t b : backups_) n += b == static_cast<int32_t>(server);
  return n;
}

uint32_t ShardAssignment::degraded_shards() const {
  if (replicas_ < 2) return 0;
  uint32_t n = 0;
  for (uint32_t j = 0; j < primaries_.size(); ++j) {
    n += alive_[primaries_[j]] && backups_[j] == kNone;
  }
  return n;
}

uint32_t ShardAssignment::lost_shards() const {
  uint32_t n = 0;
  for (uint32_t p : primaries_) n += !alive_[p];
  return n;
}

}  // namespace psrec
