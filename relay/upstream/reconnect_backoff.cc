#include "relay/upstream/reconnect_backoff.h"

#include <algorithm>

namespace brelay::relay {

ReconnectBackoff::ReconnectBackoff(Duration initial, Duration max, std::uint64_t seed)
    : initial_(std::max(initial, Duration(1))),
      max_(std::max(max, initial_)),
      ceiling_(initial_),
      random_(seed) {}

ReconnectBackoff::Duration ReconnectBackoff::next_delay() {
  const Duration ceiling = ceiling_;
  ++attempts_;
  ceiling_ = std::min(max_, ceiling_ * 2);
  // Up to 25% jitter, taken off so that the cap is never exceeded.
  std::uniform_int_distribution<std::int64_t> jitter(0, ceiling.count() / 4);
  return ceiling - Duration(jitter(random_));
}

void ReconnectBackoff::reset() {
  ceiling_ = initial_;
  attempts_ = 0;
}

}  // namespace brelay::relay
