#include "common/fault_guard.h"

#include <atomic>
#include <csetjmp>
#include <csignal>
#include <mutex>

namespace brelay {
namespace {

// The armed guard of this thread, read by the handler. A constant-initialized thread_local pointer
// (no lazy TLS initialization, so reading it from a signal handler is safe); volatile, with signal
// fences around the guarded call, so the compiler neither drops nor moves its stores across read().
constinit thread_local sigjmp_buf* volatile t_guard = nullptr;
struct sigaction g_previous {};
std::once_flag g_installed;

// A SIGBUS that is no fault of a guarded read (sent by kill(), sigqueue(), tgkill(): si_code <= 0)
// gets the previous disposition's effect at once; the guard's handler is put back afterwards (when
// the process is still there).
void pass_on(int signal) {
  struct sigaction mine {};
  sigaction(SIGBUS, &g_previous, &mine);
  raise(signal);  // SA_NODEFER: delivered before raise returns
  sigaction(SIGBUS, &mine, nullptr);
}

void on_sigbus(int signal, siginfo_t* info, void* /*context*/) {
  if (info == nullptr || info->si_code <= 0) {
    pass_on(signal);
    return;
  }
  if (sigjmp_buf* guard = t_guard; guard != nullptr) {
    t_guard = nullptr;
    siglongjmp(*guard, signal);
  }
  // Not a guarded read: put back what was there; the fault repeats and gets its usual effect.
  sigaction(SIGBUS, &g_previous, nullptr);
}

void install() {
  struct sigaction action {};
  action.sa_sigaction = on_sigbus;
  // SA_NODEFER: SIGBUS stays unblocked when the handler jumps out, so sigsetjmp need not save and
  // restore the signal mask (a system call per guarded read).
  action.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, &g_previous);
}

}  // namespace

bool read_guarded(void (*read)(void* context), void* context) {
  std::call_once(g_installed, install);
  sigjmp_buf guard;
  if (sigsetjmp(guard, 0) != 0) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    return false;
  }
  t_guard = &guard;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  read(context);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_guard = nullptr;
  return true;
}

}  // namespace brelay
