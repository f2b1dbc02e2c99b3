// BatchClock of an ssp or bsp worker: counts its clocks within the epoch
// (starting where the coordinator's lease says), reports each finished clock
// to the coordinator's barrier and waits there; under bsp it also tags the
// clock's pulls and pushes so the servers apply pushes in a fixed order.
#ifndef PSREC_WORKER_BARRIER_BATCH_CLOCK_H_
#define PSREC_WORKER_BARRIER_BATCH_CLOCK_H_

#include <cstdint>

#include "common/consistency.h"
#include "coordinator/coordinator_client.h"
#include "worker/batch_clock.h"
#include "worker/grpc_ps_client.h"

namespace psrec {

class BarrierBatchClock : public BatchClock {
 public:
  // Pointers must outlive this.
  BarrierBatchClock(Consistency consistency, uint32_t worker_id, CoordinatorClient* coordinator,
                    GrpcPsClient* ps)
      : tag_requests_(consistency == Consistency::kBsp),
        worker_id_(worker_id),
        coordinator_(coordinator),
        ps_(ps) {}

  // A new lease: its first batch is clock `clock` of `epoch`.
  void StartLease(uint32_t epoch, uint64_t clock) {
    epoch_ = epoch;
    clock_ = clock;
  }
  void BeginBatch() override;
  absl::Status EndBatch() override;

 private:
  const bool tag_requests_;
  const uint32_t worker_id_;
  CoordinatorClient* coordinator_;
  GrpcPsClient* ps_;
  uint32_t epoch_ = 0;
  uint64_t clock_ = 0;
};

}  // namespace psrec

#endif  // PSREC_WORKER_BARRIER_BATCH_CLOCK_H_
