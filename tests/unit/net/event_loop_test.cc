#include "net/event_loop.h"

#include <gtest/gtest.h>

#include <thread>

namespace brelay::net {
namespace {

TEST(EventLoop, RunsATimerAndReturnsWhenIdle) {
  EventLoop loop;
  uv_timer_t timer;
  int fired = 0;
  uv_timer_init(loop.raw(), &timer);
  timer.data = &fired;
  uv_timer_start(
      &timer,
      [](uv_timer_t* t) {
        ++*static_cast<int*>(t->data);
        uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
      },
      1, 0);
  ASSERT_TRUE(loop.run());
  EXPECT_EQ(fired, 1);
}

TEST(EventLoop, PostFromAnotherThreadRunsOnTheLoopThreadThenStops) {
  EventLoop loop;
  uv_timer_t keepalive;  // keeps run() from returning until stop()
  uv_timer_init(loop.raw(), &keepalive);
  uv_timer_start(
      &keepalive, [](uv_timer_t*) {}, 100000, 100000);
  std::thread::id loop_thread;
  std::thread::id task_thread;
  std::vector<int> order;
  std::thread poster([&] {
    loop.post([&] {
      task_thread = std::this_thread::get_id();
      order.push_back(1);
    });
    loop.post([&] { order.push_back(2); });
    loop.stop();
  });
  loop_thread = std::this_thread::get_id();
  ASSERT_TRUE(loop.run());
  poster.join();
  // stop() may land before or after the tasks ran; run again without blocking to drain.
  uv_run(loop.raw(), UV_RUN_NOWAIT);
  EXPECT_EQ(task_thread, loop_thread);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  uv_close(reinterpret_cast<uv_handle_t*>(&keepalive), nullptr);
}

}  // namespace
}  // namespace brelay::net
