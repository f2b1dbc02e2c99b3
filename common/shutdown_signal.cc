#include "common/shutdown_signal.h"

#include <pthread.h>
#include <signal.h>

namespace psrec {
namespace {

sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR2);  // used only to wake the watcher at destruction
  return set;
}

}  // namespace

ShutdownSignal::ShutdownSignal() {
  sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  watcher_ = std::thread([this, set] {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig != SIGUSR2) signal_ = sig;
    Request();
  });
}

ShutdownSignal::~ShutdownSignal() {
  if (watcher_.joinable()) {
    pthread_kill(watcher_.native_handle(), SIGUSR2);
    watcher_.join();
  }
}

void ShutdownSignal::Request() {
  std::call_once(once_, [this] { note_.Notify(); });
}

}  // namespace psrec
