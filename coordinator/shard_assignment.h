// Which server process holds each logical shard, as primary and as backup
// (chain replication, Li et al. 2014 section 4.3), and what changes when a
// server dies or a backup fails. Logical shards are the ring's owners; with
// --replicas=2, shard j starts with its primary on server j and its backup on
// server j+1 (mod servers), the ring neighbour. Pure bookkeeping with an
// injected clock, so tests drive it directly; not thread-safe (the
// coordinator's state holds it under its lock).
#ifndef PSREC_COORDINATOR_SHARD_ASSIGNMENT_H_
#define PSREC_COORDINATOR_SHARD_ASSIGNMENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "proto/psrec.pb.h"

namespace psrec {

class ShardAssignment {
 public:
  static constexpr int32_t kNone = -1;

  // `replicas` 1: no backups. Servers count as seen at `now`.
  ShardAssignment(uint32_t servers, uint32_t replicas, absl::Time now);

  void Seen(uint32_t server, absl::Time now);
  // Declares dead every live server silent for longer than `timeout`, and
  // reassigns its shards (ServerDied). Returns whether anything changed.
  bool ExpireSilent(absl::Time now, absl::Duration timeout);
  // The primaries it held move to their backups (promotion); shards it
  // backed up run without backup (degraded); a shard with neither left is
  // lost. Returns whether anything changed.
  bool ServerDied(uint32_t server);
  // A primary failed to forward to `backup`: it leaves shard's chain.
  // Returns whether anything changed (false: already out).
  bool DropBackup(uint32_t shard, uint32_t backup);
  // A new server joined (returns its index), or a dead one came back: it
  // starts copying every degraded shard to become its backup (joining).
  uint32_t AddServer(absl::Time now);
  bool Revive(uint32_t server, absl::Time now);
  // `server` holds a full copy of `shard`: it becomes the backup.
  bool Joined(uint32_t shard, uint32_t server);
  int32_t joining(uint32_t shard) const { return joining_[shard]; }
  uint32_t num_servers() const { return static_cast<uint32_t>(alive_.size()); }

  // Writes shard_primaries, shard_backups, replicas and server_alive.
  void FillMap(rpc::ShardMap* map) const;

  uint32_t replicas() const { return replicas_; }
  uint32_t primary(uint32_t shard) const { return primaries_[shard]; }
  int32_t backup(uint32_t shard) const { return backups_[shard]; }
  bool alive(uint32_t server) const { return alive_[server]; }
  absl::Time last_seen(uint32_t server) const { return seen_[server]; }
  uint32_t PrimariesOn(uint32_t server) const;
  uint32_t BackupsOn(uint32_t server) const;
  uint32_t degraded_shards() const;  // with a live primary and no backup
  uint32_t lost_shards() const;      // whose primary is dead
  uint64_t promotions() const { return promotions_; }

 private:
  const uint32_t replicas_;
  std::vector<uint32_t> primaries_;  // by logical shard
  std::vector<int32_t> backups_;     // by logical shard; kNone: degraded
  std::vector<int32_t> joining_;     // by logical shard; kNone: no copy under way
  std::vector<bool> alive_;          // by server
  std::vector<absl::Time> seen_;     // by server
  uint64_t promotions_ = 0;

  // Makes `server` the joiner of every degraded shard whose primary is alive.
  bool AssignJoiner(uint32_t server);
};

}  // namespace psrec

#endif  // PSREC_COORDINATOR_SHARD_ASSIGNMENT_H_
