#include "common/fault_guard.h"

#include <csetjmp>
#include <csignal>
#include <mutex>

namespace brelay {
namespace {

thread_local sigjmp_buf* t_guard = nullptr;
struct sigaction g_previous {};
std::once_flag g_installed;

void on_sigbus(int signal, siginfo_t* /*info*/, void* /*context*/) {
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
  if (sigsetjmp(guard, 0) != 0) return false;
  t_guard = &guard;
  read(context);
  t_guard = nullptr;
  return true;
}

}  // namespace brelay
