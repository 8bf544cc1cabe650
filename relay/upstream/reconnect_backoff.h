// ReconnectBackoff: the delays between the upstream's connection attempts. The first retry comes
// after `initial`, each further one waits twice as long, up to `max` ([source] reconnect_max_delay),
// with up to a quarter of random jitter taken off so that several relays restarted together do not
// reconnect in lockstep. reset() after a connection made progress starts again from `initial`.
// A value type; loop thread only in practice.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace brelay::relay {

class ReconnectBackoff {
 public:
  using Duration = std::chrono::milliseconds;

  ReconnectBackoff(Duration initial, Duration max, std::uint64_t seed = std::random_device{}());

  // The delay before the next attempt; advances the back-off.
  Duration next_delay();
  // The undelayed ceiling of the next delay (for logs and tests), without advancing.
  Duration current_ceiling() const { return ceiling_; }
  // Attempts since the last reset().
  std::uint32_t attempts() const { return attempts_; }
  void reset();

 private:
  Duration initial_;
  Duration max_;
  Duration ceiling_;
  std::uint32_t attempts_ = 0;
  std::mt19937_64 random_;
};

}  // namespace brelay::relay
