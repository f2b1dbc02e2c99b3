// Tail averaging of a shard's parameters (Polyak and Juditsky 1992; SWA,
// Izmailov et al. 2018): the mean of the parameters at the ends of a run's
// last K epochs is a better model than the last epoch's on its own, because
// it cancels part of the noise of the final updates (README "Models").
// `psrec train` asks every server for a snapshot after each of those epochs
// (while the epoch gate holds the workers back) and, after the last, for the
// mean to replace the live parameters. Thread-safe.
#ifndef PSREC_SERVER_PARAM_AVERAGER_H_
#define PSREC_SERVER_PARAM_AVERAGER_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/shard_state.h"

namespace psrec {

class ParameterAverager {
 public:
  // Adds the current parameters of every row of every table of `shard` to
  // the running sums. Returns the number of snapshots taken so far.
  uint32_t Accumulate(const ShardState& shard);

  // Replaces the parameters of every row seen by a snapshot with their mean
  // over the snapshots that saw it (a row born after the first snapshot
  // averages fewer); optimizer state and step counts are kept. Then the sums
  // start afresh. Returns the number of snapshots averaged (0: nothing was
  // accumulated, and nothing changed).
  uint32_t Apply(ShardState& shard);

  uint32_t snapshots() const;

 private:
  // One table's sums: row r of `sums` (dim floats) belongs to ids[r].
  struct TableSums {
    uint32_t dim = 0;
    absl::flat_hash_map<uint64_t, uint32_t> index;
    std::vector<uint64_t> ids;
    std::vector<uint32_t> counts;
    std::vector<float> sums;  // float: one more float per parameter, not two
  };

  mutable absl::Mutex mu_;
  std::vector<TableSums> tables_ ABSL_GUARDED_BY(mu_);
  uint32_t snapshots_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace psrec

#endif  // PSREC_SERVER_PARAM_AVERAGER_H_
