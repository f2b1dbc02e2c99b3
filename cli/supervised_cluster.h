// The processes of `psrec train`, supervised: a child killed by a signal
// (kill -9, the OOM killer), or one that stopped cleanly (status 0 after a
// SIGTERM) while the run still needs it, is restarted with the same identity
// and flags, logged, up to a restart limit; a child that exits with an error
// status of its own stops the run, named. A watcher thread does this, so that the
// driver's own calls (which wait for a restarted peer) never block it.
// Every (re)start is recorded in RUN_DIR/children.txt: one "name<TAB>pid<TAB>
// port" line per child (port 0: none), for operators and the fault tests.
// Children are started from the watcher thread too, and PR_SET_PDEATHSIG
// follows the thread: the watcher lives until StopAll, which stops them all.
#ifndef PSREC_CLI_SUPERVISED_CLUSTER_H_
#define PSREC_CLI_SUPERVISED_CLUSTER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cli/child_process.h"

namespace psrec {

class SupervisedCluster {
 public:
  // `pid_file`: where children.txt goes ("" : nowhere).
  SupervisedCluster(uint32_t max_restarts, std::string pid_file);
  ~SupervisedCluster();
  SupervisedCluster(const SupervisedCluster&) = delete;
  SupervisedCluster& operator=(const SupervisedCluster&) = delete;

  // Starts `psrec ARGS...`. With `wait_for_port`, waits for its port and
  // returns it; a restart then gets `restart_args` plus --port=<that port>,
  // so that peers find it where it was (empty `restart_args`: not restarted,
  // its death stops the run). A child whose exit status is 0 is
  // done (workers at the end of a run) when `may_finish`.
  absl::StatusOr<int> Start(const std::string& name, const std::vector<std::string>& args,
                            const std::vector<std::string>& restart_args, bool wait_for_port,
                            absl::Duration timeout, bool may_finish);
  // Starts the watcher (after the initial Start calls).
  void Supervise();
  // The error that stops the run, if any: a child that exited with an
  // error, or was killed more often than the limit.
  absl::Status Health() const;
  uint32_t restarts() const;
  // Workers first, then servers, then the coordinator (reverse start order).
  void StopAll();

 private:
  struct Member {
    std::string name;
    std::vector<std::string> restart_args;
    bool wait_for_port = false;
    absl::Duration timeout;
    bool may_finish = false;
    int port = 0;
    uint32_t restarts = 0;
    bool finished = false;
    std::unique_ptr<ChildProcess> child;
  };
  void Watch();
  void WritePidFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint32_t max_restarts_;
  const std::string pid_file_;
  mutable absl::Mutex mu_;
  std::vector<Member> members_ ABSL_GUARDED_BY(mu_);
  absl::Status health_ ABSL_GUARDED_BY(mu_);
  uint32_t total_restarts_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;
};

}  // namespace psrec

#endif  // PSREC_CLI_SUPERVISED_CLUSTER_H_
