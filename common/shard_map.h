// Placement of keys on servers: consistent hashing with virtual nodes (Li et
// al. 2014, section 4.3). Each server owns the ring arcs that end at its
// virtual nodes, so adding or removing a server moves only its neighbours'
// ranges. The ring is a pure function of the server ids and the vnode count.
#ifndef PSREC_COMMON_SHARD_MAP_H_
#define PSREC_COMMON_SHARD_MAP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace psrec {

class Ring {
 public:
  // Builds the ring for servers 0..num_servers-1, `vnodes` points each.
  static Ring Build(uint32_t num_servers, uint32_t vnodes = 64);
  // From wire form; positions must be sorted and owners in range.
  static absl::StatusOr<Ring> FromParts(std::vector<uint64_t> positions,
                                        std::vector<uint32_t> owners,
                                        uint32_t num_servers);

  // Owner of a hash position: the first virtual node at or after it, wrapping.
  uint32_t OwnerOfHash(uint64_t h) const;
  uint32_t Owner(uint32_t table, uint64_t id) const;

  uint32_t num_servers() const { return num_servers_; }
  const std::vector<uint64_t>& positions() const { return positions_; }
  const std::vector<uint32_t>& owners() const { return owners_; }
  // Fraction of the hash space each server owns (for status and tests).
  std::vector<double> OwnedFractions() const;

 private:
  std::vector<uint64_t> positions_;
  std::vector<uint32_t> owners_;
  uint32_t num_servers_ = 0;
};

}  // namespace psrec

#endif  // PSREC_COMMON_SHARD_MAP_H_
