#include "cli/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"

namespace psrec {
namespace {

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("was killed by signal ", WTERMSIG(status));
  return "stopped";
}

}  // namespace

absl::StatusOr<ChildProcess> ChildProcess::Spawn(const std::string& name,
                                                 const std::vector<std::string>& role_and_args,
                                                 const std::string& exe_path) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  const pid_t parent = ::getpid();
  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are allowed in a threaded parent.
  std::vector<std::string> args = {"psrec"};
  args.insert(args.end(), role_and_args.begin(), role_and_args.end());
  args.push_back(absl::StrCat("--ready_fd=", fds[1]));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char exe[4096];
  if (exe_path.empty()) {
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) return ErrnoToStatus(errno, "readlink /proc/self/exe");
    exe[n] = '\0';
  } else {
    if (exe_path.size() >= sizeof(exe)) return absl::InvalidArgumentError("exe path too long");
    std::memcpy(exe, exe_path.c_str(), exe_path.size() + 1);
  }

  pid_t pid = ::fork();
  if (pid < 0) return ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);  // the parent died before prctl
    // Keep the write end open across exec; the read end closes.
    ::fcntl(fds[1], F_SETFD, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(exe, argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return ChildProcess(name, pid, fds[0]);
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : name_(std::move(o.name_)),
      pid_(o.pid_),
      read_fd_(o.read_fd_),
      reaped_(o.reaped_),
      exit_status_(o.exit_status_) {
  o.pid_ = -1;
  o.read_fd_ = -1;
}

ChildProcess::~ChildProcess() {
  Stop(absl::Seconds(2));
  if (read_fd_ >= 0) ::close(read_fd_);
}

absl::StatusOr<int> ChildProcess::WaitForPort(absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  std::string got;
  for (;;) {
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(give_up - absl::Now()));
    if (ms <= 0) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "%s (pid %d) did not report its port within %s", name_, pid_,
          absl::FormatDuration(timeout)));
    }
    pollfd p{read_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, std::min(ms, 200));
    if (r < 0 && errno != EINTR) return ErrnoToStatus(errno, "poll");
    if (r > 0) {
      char buf[64];
      ssize_t k = ::read(read_fd_, buf, sizeof(buf));
      if (k > 0) {
        got.append(buf, static_cast<size_t>(k));
        if (got.find('\n') != std::string::npos) break;
        continue;
      }
      // EOF without a port: the child failed; wait for its status.
      ::waitpid(pid_, &exit_status_, 0);
      reaped_ = true;
      return absl::UnavailableError(absl::StrFormat(
          "%s %s before it was ready (its error is above)", name_, DescribeExit(exit_status_)));
    }
  }
  int port = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(got), &port) || port <= 0) {
    return absl::InternalError(absl::StrCat(name_, " reported a bad port: ", got));
  }
  return port;
}

bool ChildProcess::Exited(std::string* description) {
  if (pid_ < 0) return true;
  if (!reaped_) {
    pid_t r = ::waitpid(pid_, &exit_status_, WNOHANG);
    if (r == 0) return false;
    reaped_ = true;
  }
  *description = absl::StrCat(name_, " ", DescribeExit(exit_status_));
  return true;
}

bool ChildProcess::ExitedCleanly() const {
  return reaped_ && WIFEXITED(exit_status_) && WEXITSTATUS(exit_status_) == 0;
}

bool ChildProcess::KilledBySignal() const { return reaped_ && WIFSIGNALED(exit_status_); }

void ChildProcess::Stop(absl::Duration grace) {
  if (pid_ < 0 || reaped_) return;
  ::kill(pid_, SIGTERM);
  const absl::Time give_up = absl::Now() + grace;
  while (absl::Now() < give_up) {
    if (::waitpid(pid_, &exit_status_, WNOHANG) == pid_) {
      reaped_ = true;
      return;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &exit_status_, 0);
  reaped_ = true;
}

}  // namespace psrec
