#include "server/push_dedup.h"

namespace psrec {

PushDedupWindow::Claim PushDedupWindow::TryClaim(uint32_t worker, uint64_t seq) {
  absl::MutexLock lock(&mu_);
  Window& w = windows_[worker];
  if (w.newest == 0 || seq > w.newest) {
    const uint64_t shift = w.newest == 0 ? kWindow : seq - w.newest;
    if (shift >= kWindow) {
      w.seen.reset();
    } else {
      w.seen <<= shift;
    }
    w.seen.set(0);
    w.newest = seq;
    return Claim::kNew;
  }
  const uint64_t age = w.newest - seq;
  if (age >= kWindow) return Claim::kTooOld;
  if (w.seen.test(age)) return Claim::kDuplicate;
  w.seen.set(age);
  return Claim::kNew;
}

void PushDedupWindow::Release(uint32_t worker, uint64_t seq) {
  absl::MutexLock lock(&mu_);
  auto it = windows_.find(worker);
  if (it == windows_.end() || seq > it->second.newest) return;
  const uint64_t age = it->second.newest - seq;
  if (age < kWindow) it->second.seen.reset(age);
}

std::vector<PushDedupWindow::Entry> PushDedupWindow::Export() const {
  absl::MutexLock lock(&mu_);
  std::vector<Entry> out;
  out.reserve(windows_.size());
  for (const auto& [worker, w] : windows_) out.push_back({worker, w.newest, w.seen});
  return out;
}

void PushDedupWindow::Import(const std::vector<Entry>& entries) {
  absl::MutexLock lock(&mu_);
  for (const Entry& e : entries) windows_[e.worker] = Window{e.newest, e.seen};
}

size_t PushDedupWindow::workers() const {
  absl::MutexLock lock(&mu_);
  return windows_.size();
}

}  // namespace psrec
