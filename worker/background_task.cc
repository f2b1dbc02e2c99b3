#include "worker/background_task.h"

#include <utility>

namespace psrec {

BackgroundTask::BackgroundTask() : thread_([this] { Loop(); }) {}

BackgroundTask::~BackgroundTask() {
  Wait().IgnoreError();
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void BackgroundTask::Start(std::function<absl::Status()> task) {
  absl::MutexLock lock(&mu_);
  task_ = std::move(task);
  running_ = true;
  done_ = false;
}

absl::Status BackgroundTask::Wait() {
  absl::MutexLock lock(&mu_);
  if (!running_) return absl::OkStatus();
  mu_.Await(absl::Condition(&done_));
  running_ = false;
  return std::exchange(status_, absl::OkStatus());
}

bool BackgroundTask::HasWorkOrStop() const {
  return stop_ || static_cast<bool>(task_);
}

void BackgroundTask::Loop() {
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(this, &BackgroundTask::HasWorkOrStop));
    if (stop_) return;
    std::function<absl::Status()> task = std::move(task_);
    task_ = nullptr;
    mu_.Unlock();
    absl::Status status = task();
    mu_.Lock();
    status_ = std::move(status);
    done_ = true;
  }
}

}  // namespace psrec
