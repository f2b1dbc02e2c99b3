// A server's checkpoints of its shard, on its disk (README "Failure and
// recovery"):
//   DIR/shard-<index>/round-<R>.psck  the shard in checkpoint round R
//   DIR/shard-<index>/final.psck      written on SIGTERM, outside any round
// Both are checkpoint shard files (server/model_file.h): written atomically,
// checksummed, optimizer state included. Not thread-safe: one writer (the
// checkpoint service, or the server's shutdown path) at a time.
#ifndef PSREC_SERVER_CHECKPOINT_STORE_H_
#define PSREC_SERVER_CHECKPOINT_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/shard_state.h"

namespace psrec {

struct CheckpointRestore {
  uint64_t round = 0;  // the round restored (0: nothing was restored)
  bool from_final = false;
  uint64_t rows = 0;
  std::string path;
  std::vector<std::string> skipped;  // damaged files passed over, with why
};

class CheckpointStore {
 public:
  CheckpointStore(std::string dir, uint32_t shard_index);

  const std::string& dir() const { return dir_; }
  std::string RoundPath(uint64_t round) const;
  std::string FinalPath() const;

  // Writes the shard's state for `round`; returns the bytes written.
  absl::StatusOr<uint64_t> WriteRound(uint64_t round, const ShardState& shard) const;
  // The SIGTERM snapshot; `base_round` is the newest complete round known.
  absl::StatusOr<uint64_t> WriteFinal(uint64_t base_round, const ShardState& shard) const;
  // Deletes rounds older than the newest `keep` rounds at or before
  // `last_complete` (rounds after it may still complete and stay).
  void Prune(uint32_t keep, uint64_t last_complete) const;
  // Round numbers on disk, ascending.
  std::vector<uint64_t> Rounds() const;

  // Restores into `shard` (fresh, nothing pushed yet): with `use_final`, the
  // final snapshot if its base round is `max_round` (no round completed since
  // it was written; it is then deleted so it is used once); else the newest
  // round <= `max_round` that verifies. Damaged or torn files are skipped
  // with a log line naming them. Nothing restorable is not an error
  // (round 0); a file of another run's layout is.
  absl::StatusOr<CheckpointRestore> Restore(uint64_t max_round, bool use_final,
                                            ShardState* shard) const;

 private:
  std::string dir_;  // DIR/shard-<index>
  uint32_t shard_index_;
};

}  // namespace psrec

#endif  // PSREC_SERVER_CHECKPOINT_STORE_H_
