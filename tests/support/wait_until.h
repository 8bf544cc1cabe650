// Waiting in tests for something another thread or process does: poll the condition until it holds
// or a deadline passes, instead of sleeping a guessed time. The wait ends as soon as the condition
// holds; the timeout is only the point of giving up (generous, for slow and shared CI machines).
#pragma once

#include <chrono>
#include <thread>

namespace brelay::testing {

// Calls `condition` (which may also drive an event loop) every `poll` until it returns true or
// `timeout` has passed. Returns whether it held (checked once more at the deadline).
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(5),
                std::chrono::milliseconds poll = std::chrono::milliseconds(1)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace brelay::testing
