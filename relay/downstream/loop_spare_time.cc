#include "relay/downstream/loop_spare_time.h"

namespace brelay::relay::downstream {

LoopSpareTime::LoopSpareTime(net::EventLoop& loop)
    : loop_(loop), window_start_(std::chrono::steady_clock::now()), idle_at_start_(loop.idle_time()) {}

bool LoopSpareTime::has_spare_time() {
  const auto now = std::chrono::steady_clock::now();
  const auto elapsed = now - window_start_;
  if (elapsed < kWindow) return spare_;
  const std::chrono::nanoseconds idle = loop_.idle_time();
  const double idle_fraction = std::chrono::duration<double>(idle - idle_at_start_).count() /
                               std::chrono::duration<double>(elapsed).count();
  const double busy = 1.0 - idle_fraction;
  if (spare_ && busy > kBusyAbove) spare_ = false;
  if (!spare_ && busy < kBusyBelow) spare_ = true;
  window_start_ = now;
  idle_at_start_ = idle;
  return spare_;
}

}  // namespace brelay::relay::downstream
