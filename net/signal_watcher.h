// Watches one POSIX signal on the loop (uv_signal_t) and runs a callback on the loop thread each
// time it arrives. The handle lives in a heap block freed in its close callback, so a watcher may be
// destroyed at any time, also from inside its own callback. Loop thread only.
#pragma once

#include <functional>

#include <uv.h>

#include "common/result.h"

namespace brelay::net {

class SignalWatcher {
 public:
  explicit SignalWatcher(uv_loop_t* loop);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // Starts watching `signal_number`; the callback gets the signal number.
  Status start(int signal_number, std::function<void(int)> callback);
  void stop();

 private:
  struct Handle;
  static void on_signal(uv_signal_t* signal, int signal_number);

  Handle* handle_;  // owned until uv_close; freed by the close callback
};

}  // namespace brelay::net
