#include "cli/supervised_cluster.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/logging.h"

namespace psrec {

SupervisedCluster::SupervisedCluster(uint32_t max_restarts, std::string pid_file)
    : max_restarts_(max_restarts), pid_file_(std::move(pid_file)) {}

SupervisedCluster::~SupervisedCluster() { StopAll(); }

absl::StatusOr<int> SupervisedCluster::Start(const std::string& name,
                                             const std::vector<std::string>& args,
                                             const std::vector<std::string>& restart_args,
                                             bool wait_for_port, absl::Duration timeout,
                                             bool may_finish) {
  auto child = ChildProcess::Spawn(name, args);
  if (!child.ok()) return child.status();
  Member m;
  m.name = name;
  m.restart_args = restart_args;
  m.wait_for_port = wait_for_port;
  m.timeout = timeout;
  m.may_finish = may_finish;
  m.child = std::make_unique<ChildProcess>(std::move(*child));
  if (wait_for_port) {
    auto port = m.child->WaitForPort(timeout);
    if (!port.ok()) return port.status();
    m.port = *port;
    if (!m.restart_args.empty()) m.restart_args.push_back(absl::StrCat("--port=", m.port));
  }
  const int port = m.port;
  absl::MutexLock lock(&mu_);
  members_.push_back(std::move(m));
  WritePidFile();
  return port;
}

void SupervisedCluster::Supervise() {
  if (!watcher_.joinable()) watcher_ = std::thread([this] { Watch(); });
}

absl::Status SupervisedCluster::Health() const {
  absl::MutexLock lock(&mu_);
  return health_;
}

uint32_t SupervisedCluster::restarts() const {
  absl::MutexLock lock(&mu_);
  return total_restarts_;
}

void SupervisedCluster::Watch() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      for (Member& m : members_) {
        std::string how;
        if (m.finished || !m.child->Exited(&how)) continue;
        if (m.may_finish && m.child->ExitedCleanly()) {
          m.finished = true;
          continue;
        }
        // A server or coordinator leaves with status 0 only when told to
        // (SIGTERM: it saved its state first); the run still needs it.
        if (!m.child->KilledBySignal() && !m.child->ExitedCleanly()) {
          if (health_.ok()) health_ = absl::AbortedError(how + " (its log is above)");
          m.finished = true;
          continue;
        }
        if (m.restart_args.empty()) {
          if (health_.ok()) health_ = absl::AbortedError(how + " (it cannot be restarted)");
          m.finished = true;
          continue;
        }
        if (m.restarts >= max_restarts_) {
          if (health_.ok()) {
            health_ = absl::AbortedError(
                absl::StrCat(how, "; restarted ", m.restarts, " times already (--max_restarts)"));
          }
          m.finished = true;
          continue;
        }
        ++m.restarts;
        ++total_restarts_;
        spdlog::warn("{}; restarting it (restart {} of {})", how, m.restarts, max_restarts_);
        auto child = ChildProcess::Spawn(m.name, m.restart_args);
        if (child.ok()) {
          m.child = std::make_unique<ChildProcess>(std::move(*child));
          if (m.wait_for_port) {
            auto port = m.child->WaitForPort(m.timeout);
            if (!port.ok()) child = port.status();
          }
        }
        if (!child.ok()) {
          if (health_.ok()) {
            health_ = absl::AbortedError(
                absl::StrCat("restarting ", m.name, ": ", child.status().message()));
          }
          m.finished = true;
          continue;
        }
        WritePidFile();
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

void SupervisedCluster::WritePidFile() {
  if (pid_file_.empty()) return;
  std::string text;
  for (const Member& m : members_) {
    absl::StrAppend(&text, m.name, "\t", m.child->pid(), "\t", m.port, "\n");
  }
  if (auto s = WriteFileAtomically(pid_file_, text); !s.ok()) {
    spdlog::warn("{}", s.message());
  }
}

void SupervisedCluster::StopAll() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
  absl::MutexLock lock(&mu_);
  for (auto it = members_.rbegin(); it != members_.rend(); ++it) it->child->Stop(absl::Seconds(10));
  members_.clear();
}

}  // namespace psrec
