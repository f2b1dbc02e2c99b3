// The coordinator's state file: what CoordinatorState::Snapshot() returns,
// written atomically (temporary file, fsync, rename) in a checksummed
// envelope, little-endian:
//   0   char[8] magic "PSRECCS1"
//   8   u32     format_version (1)
//   12  u32     crc32 (zlib) of the payload
//   16  u64     payload_bytes P
//   24  P bytes rpc::CoordinatorSnapshot (proto/checkpoint.proto), binary
// Files under the coordinator's --checkpoint_dir (README "Failure and recovery"):
//   coordinator/state.pscs          the live state, rewritten as it changes
//   coordinator/round-<R>.pscs      the state of checkpoint round R
#ifndef PSREC_COORDINATOR_COORDINATOR_SNAPSHOT_H_
#define PSREC_COORDINATOR_COORDINATOR_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/checkpoint.pb.h"

namespace psrec {

inline constexpr uint32_t kCoordinatorSnapshotVersion = 1;

absl::Status WriteCoordinatorSnapshot(const std::string& path,
                                      const rpc::CoordinatorSnapshot& snapshot);
// DataLoss naming the file when it is torn or damaged.
absl::StatusOr<rpc::CoordinatorSnapshot> ReadCoordinatorSnapshot(const std::string& path);

std::string CoordinatorStatePath(const std::string& checkpoint_dir);
std::string CoordinatorRoundPath(const std::string& checkpoint_dir, uint64_t round);
// Round numbers with a coordinator state file, ascending.
std::vector<uint64_t> CoordinatorRounds(const std::string& checkpoint_dir);

// Names of the RunConfig fields that differ (dataset facts included), for a
// resume refused because the configuration changed.
std::vector<std::string> ConfigDifferences(const rpc::RunConfig& saved, const rpc::RunConfig& now);

// Examples in one epoch of `config`'s training data: every positive, with
// its sampled negatives for ranking (pairs for bpr).
uint64_t ExpectedEpochExamples(const rpc::RunConfig& config);

}  // namespace psrec

#endif  // PSREC_COORDINATOR_COORDINATOR_SNAPSHOT_H_
