#include "net/event_loop.h"

#include <csignal>
#include <cstdlib>
#include <mutex>
#include <utility>

#include <fmt/format.h>

namespace brelay::net {

EventLoop::EventLoop() {
  // libuv writes to sockets with write(2): a peer that went away must be an EPIPE error, not a
  // signal that kills the process.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  if (int rc = uv_loop_init(&loop_); rc != 0) {
    // Without a loop nothing can run; this only fails when the process is out of descriptors.
    fmt::print(stderr, "fatal: uv_loop_init failed: {}\n", uv_strerror(rc));
    std::abort();
  }
  // Cannot fail before the loop has run; without it idle_time() stays 0 (the loop looks busy).
  (void)uv_loop_configure(&loop_, UV_METRICS_IDLE_TIME);
  uv_async_init(&loop_, &wakeup_, &EventLoop::on_async);
  wakeup_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&wakeup_));
}

EventLoop::~EventLoop() {
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void*) {
        if (!uv_is_closing(handle)) uv_close(handle, nullptr);
      },
      nullptr);
  while (uv_run(&loop_, UV_RUN_DEFAULT) != 0) {
  }
  uv_loop_close(&loop_);
}

std::chrono::nanoseconds EventLoop::idle_time() {
  return std::chrono::nanoseconds(uv_metrics_idle_time(&loop_));
}

Status EventLoop::run() {
  drain_posted();
  uv_run(&loop_, UV_RUN_DEFAULT);
  return {};
}

void EventLoop::stop() {
  {
    std::lock_guard lock(posted_mutex_);
    stop_requested_ = true;
  }
  uv_async_send(&wakeup_);
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  uv_async_send(&wakeup_);
}

void EventLoop::on_async(uv_async_t* handle) {
  static_cast<EventLoop*>(handle->data)->drain_posted();
}

void EventLoop::drain_posted() {
  std::vector<std::function<void()>> tasks;
  bool stop = false;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
    stop = std::exchange(stop_requested_, false);
  }
  for (auto& task : tasks)
    task();
  if (stop) uv_stop(&loop_);
}

}  // namespace brelay::net
