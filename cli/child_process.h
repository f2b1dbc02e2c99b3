// A psrec role started by `psrec train` as a direct child: fork + exec of this
// same binary, in the parent's process group, killed when the parent dies
// (PR_SET_PDEATHSIG), reporting its OS-chosen port through a pipe.
#ifndef PSREC_CLI_CHILD_PROCESS_H_
#define PSREC_CLI_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace psrec {

class ChildProcess {
 public:
  // Starts `EXE ROLE ARGS... --ready_fd=N`; `name` is for messages. An empty
  // `exe` means this same binary (/proc/self/exe).
  static absl::StatusOr<ChildProcess> Spawn(const std::string& name,
                                            const std::vector<std::string>& role_and_args,
                                            const std::string& exe = "");
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess();

  // Reads the port the child reported. Fails naming the child if it exits or
  // stays silent past `timeout`.
  absl::StatusOr<int> WaitForPort(absl::Duration timeout);
  // Non-blocking: true once the child has exited; `*description` says how.
  bool Exited(std::string* description);
  // After Exited() returned true: whether the child exited with status 0.
  bool ExitedCleanly() const;
  // After Exited() returned true: whether a signal ended the child (kill -9,
  // the OOM killer), as opposed to an exit status of its own.
  bool KilledBySignal() const;
  // SIGTERM, then SIGKILL after `grace`; reaps the child. Idempotent.
  void Stop(absl::Duration grace);
  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }

 private:
  ChildProcess(std::string name, pid_t pid, int read_fd)
      : name_(std::move(name)), pid_(pid), read_fd_(read_fd) {}
  std::string name_;
  pid_t pid_ = -1;
  int read_fd_ = -1;
  bool reaped_ = false;
  int exit_status_ = 0;
};

}  // namespace psrec

#endif  // PSREC_CLI_CHILD_PROCESS_H_
