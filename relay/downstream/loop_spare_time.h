// Whether the loop thread has time to spare, judged from libuv's idle time over windows of about
// 100 ms with hysteresis: spare until the loop is busy more than kBusyAbove of a window, then not
// until it is busy less than kBusyBelow. Dump sessions use it to decide who pays for pushing their
// bytes through the TCP stack (see DumpSession): the relay while its thread has time to spare, the
// readers when it has not. Shared by all dump sessions; loop thread only.
#pragma once

#include <chrono>

#include "net/event_loop.h"

namespace brelay::relay::downstream {

class LoopSpareTime {
 public:
  static constexpr double kBusyAbove = 0.6;
  static constexpr double kBusyBelow = 0.3;
  static constexpr std::chrono::milliseconds kWindow{100};

  explicit LoopSpareTime(net::EventLoop& loop);

  // The state as of the last completed window (starting a new one when due).
  bool has_spare_time();

 private:
  net::EventLoop& loop_;
  std::chrono::steady_clock::time_point window_start_;
  std::chrono::nanoseconds idle_at_start_{0};
  bool spare_ = true;
};

}  // namespace brelay::relay::downstream
