#include "worker/barrier_batch_clock.h"

namespace psrec {

void BarrierBatchClock::BeginBatch() {
  if (tag_requests_) ps_->set_clock(ClockTag(epoch_, clock_), worker_id_);
}

absl::Status BarrierBatchClock::EndBatch() {
  if (auto s = coordinator_->FinishClock(worker_id_, epoch_, clock_); !s.ok()) return s;
  ++clock_;
  return absl::OkStatus();
}

}  // namespace psrec
