// EventLoop owns one uv_loop_t. Every socket of the process (upstream, downstream sessions, admin,
// HTTP) lives on one loop, run by one thread; only post() and stop() may be called from other
// threads. Handles registered on the loop must be closed (uv_close) before the loop is destroyed;
// the destructor closes any still open and runs the loop until their close callbacks have run.
// Creating the first EventLoop sets SIGPIPE to be ignored for the process (writes to a closed
// socket then fail with EPIPE instead of killing the process).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

#include <uv.h>

#include "common/result.h"

namespace brelay::net {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  uv_loop_t* raw() { return &loop_; }

  // Runs until stop() is called or nothing is left to do. Loop thread only.
  Status run();
  // Asks run() to return (the current run, or the next one if none is running); any thread.
  void stop();
  // Queues `task` to run on the loop thread; any thread. Tasks run in the order posted.
  void post(std::function<void()> task);

  // Time the loop has spent waiting for events since it was created (libuv's idle-time metric);
  // with the wall clock it tells how busy the loop thread is. Loop thread only.
  std::chrono::nanoseconds idle_time();

 private:
  static void on_async(uv_async_t* handle);
  void drain_posted();

  uv_loop_t loop_{};
  uv_async_t wakeup_{};
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;  // guarded by posted_mutex_
  bool stop_requested_ = false;                // guarded by posted_mutex_
};

}  // namespace brelay::net
