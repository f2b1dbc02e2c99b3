// Idempotent pushes: remembers which (worker, seq) pushes a shard replica has
// applied, so that a retried or re-routed push is applied once.
//
// Window: per worker, the highest seq seen and a bitmap of the kWindow seqs
// below it (kWindow / 8 bytes per worker). A worker's PS client has one Push
// in flight at a time and numbers its calls consecutively, so every retry
// names a seq at most (calls of one Push) below the newest the shard has seen
// from that worker; one Push is at most tables x ceil(keys / 8192) calls per
// shard, a few dozen in practice, far below kWindow. A seq older than the
// window cannot be told apart from a new push and is refused (kTooOld), never
// applied twice. Thread-safe.
#ifndef PSREC_SERVER_PUSH_DEDUP_H_
#define PSREC_SERVER_PUSH_DEDUP_H_

#include <bitset>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace psrec {

class PushDedupWindow {
 public:
  static constexpr uint64_t kWindow = 4096;
  enum class Claim { kNew, kDuplicate, kTooOld };

  // kNew marks (worker, seq) applied: the caller applies it now, or calls
  // Release() if applying failed so that a retry is applied.
  Claim TryClaim(uint32_t worker, uint64_t seq);
  void Release(uint32_t worker, uint64_t seq);
  size_t workers() const;

  // The whole state, for a joining replica's copy of the shard.
  struct Entry {
    uint32_t worker = 0;
    uint64_t newest = 0;
    std::bitset<kWindow> seen;
  };
  std::vector<Entry> Export() const;
  void Import(const std::vector<Entry>& entries);

 private:
  struct Window {
    uint64_t newest = 0;            // highest seq claimed
    std::bitset<kWindow> seen;      // bit (newest - seq): seq claimed
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint32_t, Window> windows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace psrec

#endif  // PSREC_SERVER_PUSH_DEDUP_H_
