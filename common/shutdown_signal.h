// SIGTERM/SIGINT as a notification: Install() blocks the signals in every
// thread started afterwards and a watcher thread turns them into Notify(), so
// roles shut down from their main thread, never from a signal handler.
#ifndef PSREC_COMMON_SHUTDOWN_SIGNAL_H_
#define PSREC_COMMON_SHUTDOWN_SIGNAL_H_

#include <memory>
#include <mutex>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace psrec {

class ShutdownSignal {
 public:
  // Call in main before any thread is started.
  ShutdownSignal();
  ~ShutdownSignal();
  // Also usable by RPCs ("Shutdown") and internal completion.
  void Request();
  bool requested() const { return note_.HasBeenNotified(); }
  // True when shutdown was requested within `timeout`.
  bool WaitFor(absl::Duration timeout) { return note_.WaitForNotificationWithTimeout(timeout); }
  int signal_number() const { return signal_; }

 private:
  absl::Notification note_;
  std::once_flag once_;
  int signal_ = 0;
  std::thread watcher_;
};

}  // namespace psrec

#endif  // PSREC_COMMON_SHUTDOWN_SIGNAL_H_
