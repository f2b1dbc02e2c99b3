// What the worker sees of the parameters: pull rows, push gradients (like
// ps-lite's KVWorker). The gRPC client and the in-process client implement it;
// training code never sees sockets or server internals.
#ifndef PSREC_WORKER_PS_CLIENT_H_
#define PSREC_WORKER_PS_CLIENT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace psrec {

struct PullOp {
  uint32_t table = 0;
  absl::Span<const uint64_t> keys;  // unique
  float* values = nullptr;          // keys.size() x dim(table), filled in key order
  uint8_t* found = nullptr;         // read-only pulls: one flag per key
};

struct PushOp {
  uint32_t table = 0;
  absl::Span<const uint64_t> keys;  // unique
  const float* grads = nullptr;     // keys.size() x dim(table)
  // Multiplies the run's learning rate for this push (the lr schedule); > 0.
  float lr_scale = 1.0f;
  // `grads` are changes to add to the rows as they are (no optimizer, lr or
  // L2): what a windowed worker's own sgd steps did (worker/windowed_mf.h).
  bool add_deltas = false;
  // `grads` are the rows' new values; their optimizer state starts afresh
  // (PushRequest.assign: initialising a run from saved models).
  bool assign = false;
};

class PsClient {
 public:
  virtual ~PsClient() = default;
  // Runs all ops, in parallel where the implementation can. Read-only pulls
  // never create rows: missing ones read as zeros with found = 0.
  virtual absl::Status Pull(absl::Span<const PullOp> ops, bool read_only) = 0;
  virtual absl::Status Push(absl::Span<const PushOp> ops) = 0;
};

}  // namespace psrec

#endif  // PSREC_WORKER_PS_CLIENT_H_
