// The clock barrier of ssp and bsp runs (Li et al. 2014, 4.2): per worker,
// the clocks (mini-batches) it finished in the current epoch, and who is in
// the barrier. A worker may start clock t only when every other member has
// finished at least t - lead clocks (lead 0: bsp, staleness: ssp).
//
// Members are the workers with work left in the epoch. A worker whose shards
// of the epoch are done leaves: it holds nobody back, as if it ticked empty
// clocks as fast as the others run. A dead worker leaves too. Epochs never
// overlap (the coordinator leases epoch e + 1 only once e is complete), so
// clocks restart at 0 each epoch.
//
// Pure bookkeeping, no time and no locking: the coordinator holds its lock
// around every call.
#ifndef PSREC_COORDINATOR_CLOCK_TABLE_H_
#define PSREC_COORDINATOR_CLOCK_TABLE_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace psrec {

class ClockTable {
 public:
  explicit ClockTable(uint32_t allowed_lead) : lead_(allowed_lead) {}

  // Starts `epoch`: the participants enter at clock 0, everyone else is out.
  void StartEpoch(uint32_t epoch, const std::vector<uint32_t>& participants);
  // The epoch started last; nullopt before the first.
  std::optional<uint32_t> epoch() const { return epoch_; }

  // Brings `worker` (back) into the barrier. Coming back, it starts at the
  // slowest member's clock when that is ahead of its own (it ticked empty
  // clocks while out). Returns the clock it starts at.
  uint64_t Enter(uint32_t worker);
  // Takes `worker` out of the barrier; false if it was not in.
  bool Leave(uint32_t worker);
  bool InBarrier(uint32_t worker) const;

  // `worker` finished clock `clock` of the current epoch: its clock becomes
  // clock + 1 (never lower: a repeated report changes nothing).
  void Finish(uint32_t worker, uint64_t clock);
  // Whether `worker` may start `clock`: no other member is more than the
  // allowed lead behind it.
  bool MayStart(uint32_t worker, uint64_t clock) const;
  // `worker` starts `clock`: remembers how far ahead of the slowest other
  // member that is (max_ahead).
  void RecordStart(uint32_t worker, uint64_t clock);
  void AddWait(uint32_t worker, double seconds);

  // Clocks `worker` finished in the current epoch (0 for an unknown id).
  uint64_t clock(uint32_t worker) const;
  double wait_seconds(uint32_t worker) const;
  // Fastest minus slowest clock among the members (0 with fewer than two).
  uint64_t Spread() const;
  // The most clocks any worker started ahead of the slowest other member,
  // over the whole run: at most the allowed lead, by construction.
  uint64_t max_ahead() const { return max_ahead_; }
  uint32_t allowed_lead() const { return lead_; }

 private:
  struct Worker {
    uint64_t clock = 0;
    bool in = false;
    double wait_seconds = 0;
  };
  Worker& At(uint32_t worker);
  // The lowest clock among members other than `except`; nullopt if none.
  std::optional<uint64_t> SlowestOther(uint32_t except) const;

  const uint32_t lead_;
  std::optional<uint32_t> epoch_;
  std::vector<Worker> workers_;  // by worker id
  uint64_t max_ahead_ = 0;
};

}  // namespace psrec

#endif  // PSREC_COORDINATOR_CLOCK_TABLE_H_
