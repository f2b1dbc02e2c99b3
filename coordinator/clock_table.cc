#include "coordinator/clock_table.h"

#include <algorithm>
#include <limits>

namespace psrec {

ClockTable::Worker& ClockTable::At(uint32_t worker) {
  if (worker >= workers_.size()) workers_.resize(worker + 1);
  return workers_[worker];
}

void ClockTable::StartEpoch(uint32_t epoch, const std::vector<uint32_t>& participants) {
  epoch_ = epoch;
  for (Worker& w : workers_) {
    w.clock = 0;
    w.in = false;
  }
  for (uint32_t id : participants) At(id).in = true;
}

uint64_t ClockTable::Enter(uint32_t worker) {
  Worker& w = At(worker);
  if (w.in) return w.clock;
  if (auto slowest = SlowestOther(worker)) w.clock = std::max(w.clock, *slowest);
  w.in = true;
  return w.clock;
}

bool ClockTable::Leave(uint32_t worker) {
  if (worker >= workers_.size() || !workers_[worker].in) return false;
  workers_[worker].in = false;
  return true;
}

bool ClockTable::InBarrier(uint32_t worker) const {
  return worker < workers_.size() && workers_[worker].in;
}

void ClockTable::Finish(uint32_t worker, uint64_t clock) {
  Worker& w = At(worker);
  w.clock = std::max(w.clock, clock + 1);
}

std::optional<uint64_t> ClockTable::SlowestOther(uint32_t except) const {
  std::optional<uint64_t> slowest;
  for (uint32_t i = 0; i < workers_.size(); ++i) {
    if (i == except || !workers_[i].in) continue;
    if (!slowest || workers_[i].clock < *slowest) slowest = workers_[i].clock;
  }
  return slowest;
}

bool ClockTable::MayStart(uint32_t worker, uint64_t clock) const {
  const auto slowest = SlowestOther(worker);
  return !slowest || clock <= *slowest + lead_;
}

void ClockTable::RecordStart(uint32_t worker, uint64_t clock) {
  const auto slowest = SlowestOther(worker);
  if (slowest && clock > *slowest) max_ahead_ = std::max(max_ahead_, clock - *slowest);
}

void ClockTable::AddWait(uint32_t worker, double seconds) { At(worker).wait_seconds += seconds; }

uint64_t ClockTable::clock(uint32_t worker) const {
  return worker < workers_.size() ? workers_[worker].clock : 0;
}

double ClockTable::wait_seconds(uint32_t worker) const {
  return worker < workers_.size() ? workers_[worker].wait_seconds : 0;
}

uint64_t ClockTable::Spread() const {
  uint64_t lo = std::numeric_limits<uint64_t>::max(), hi = 0;
  int members = 0;
  for (const Worker& w : workers_) {
    if (!w.in) continue;
    ++members;
    lo = std::min(lo, w.clock);
    hi = std::max(hi, w.clock);
  }
  return members < 2 ? 0 : hi - lo;
}

}  // namespace psrec
