// LoopSpareTime on a real loop: an idle loop has time to spare; one whose callbacks keep it busy
// for whole windows has not; it has again once the loop has been mostly idle for a window.
#include "relay/downstream/loop_spare_time.h"

#include <gtest/gtest.h>

#include <thread>

#include "net/event_loop.h"
#include "net/timer.h"

namespace brelay::relay::downstream {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Runs the loop for `duration`; each timer tick keeps the thread busy for `busy_per_tick` of every
// 10 ms (sleeping: the loop is not waiting for events then, which is what libuv counts). The sleep is
// the test's subject, a measured busy time, not a wait for a condition.
void run_loop(net::EventLoop& loop, milliseconds duration, milliseconds busy_per_tick) {
  net::Timer tick(loop.raw());
  const auto end = Clock::now() + duration;
  std::function<void()> on_tick = [&] {
    if (busy_per_tick.count() > 0) std::this_thread::sleep_for(busy_per_tick);
    if (Clock::now() < end) tick.start(milliseconds(10) - std::min(busy_per_tick, milliseconds(9)), on_tick);
  };
  tick.start(milliseconds(1), on_tick);
  while (Clock::now() < end)
    uv_run(loop.raw(), UV_RUN_ONCE);
}

TEST(LoopSpareTime, FollowsHowBusyTheLoopIsWithHysteresis) {
  net::EventLoop loop;
  LoopSpareTime spare(loop);
  run_loop(loop, milliseconds(150), milliseconds(0));
  EXPECT_TRUE(spare.has_spare_time());

  run_loop(loop, milliseconds(150), milliseconds(9));  // about 90 % busy
  EXPECT_FALSE(spare.has_spare_time());

  run_loop(loop, milliseconds(150), milliseconds(4));  // about 45 %: between the marks, no change
  EXPECT_FALSE(spare.has_spare_time());

  run_loop(loop, milliseconds(150), milliseconds(0));
  EXPECT_TRUE(spare.has_spare_time());
}

}  // namespace
}  // namespace brelay::relay::downstream
