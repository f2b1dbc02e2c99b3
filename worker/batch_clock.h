// What the trainer tells the consistency model around each mini-batch (one
// clock). Under asp there is none; under ssp/bsp the worker's implementation
// reports to the coordinator's clock barrier (worker/barrier_batch_clock.h).
#ifndef PSREC_WORKER_BATCH_CLOCK_H_
#define PSREC_WORKER_BATCH_CLOCK_H_

#include "absl/status/status.h"

namespace psrec {

class BatchClock {
 public:
  virtual ~BatchClock() = default;
  // Before the batch's pull.
  virtual void BeginBatch() = 0;
  // After the batch's push was acknowledged: returns once the next batch may
  // start (CANCELLED when the worker is told to stop meanwhile).
  virtual absl::Status EndBatch() = 0;
};

}  // namespace psrec

#endif  // PSREC_WORKER_BATCH_CLOCK_H_
