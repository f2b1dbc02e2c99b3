// One long-lived thread that runs its owner's tasks one at a time: the
// trainer pulls batch t+1 on it while it computes and pushes batch t.
// A thread started per batch (std::async) cost a clone, a stack mapping and
// a join for every 256 examples; this one is started once.
#ifndef PSREC_WORKER_BACKGROUND_TASK_H_
#define PSREC_WORKER_BACKGROUND_TASK_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace psrec {

// Not thread-safe: one owner calls Start and Wait, alternately.
class BackgroundTask {
 public:
  BackgroundTask();
  // Waits for a started task, then stops the thread.
  ~BackgroundTask();
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;

  // Runs `task` on the thread. A task started before must have been waited for.
  void Start(std::function<absl::Status()> task);
  // Blocks until the started task returned and gives its status; OK when no
  // task was started since the last Wait.
  absl::Status Wait();

 private:
  void Loop();
  bool HasWorkOrStop() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::function<absl::Status()> task_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;  // started, not yet waited for
  bool done_ ABSL_GUARDED_BY(mu_) = false;     // the running task returned
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after the fields it reads
};

}  // namespace psrec

#endif  // PSREC_WORKER_BACKGROUND_TASK_H_
