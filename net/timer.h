// A one-shot libuv timer for timeouts (connect, handshake, idle). The uv_timer_t lives in a heap
// block freed in its close callback, so a Timer may be destroyed at any time, also from inside its
// own callback; the callback never runs after stop() or destruction. Loop thread only.
#pragma once

#include <chrono>
#include <functional>

#include <uv.h>

namespace brelay::net {

class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Runs `callback` once after `delay`; restarts the timer when it is already running.
  void start(std::chrono::milliseconds delay, std::function<void()> callback);
  void stop();
  bool active() const;

 private:
  struct Handle;
  static void on_timeout(uv_timer_t* timer);

  Handle* handle_;  // owned until uv_close; freed by the close callback
};

}  // namespace brelay::net
