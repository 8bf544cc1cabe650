#include "relay/downstream/dump_extras.h"

#include "relay/binlog/event_builders.h"

namespace brelay::relay::downstream {

std::chrono::milliseconds HeartbeatPolicy::idle_delay(
    std::chrono::steady_clock::duration since_last_send) const {
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(period_ - since_last_send);
  if (delay.count() < 1) delay = std::chrono::milliseconds(1);
  return delay;
}

Bytes build_dump_heartbeat(bool v2, std::uint32_t server_id, std::string_view file, std::uint64_t position,
                           bool with_checksum) {
  return v2 ? binlog::build_heartbeat_v2(server_id, file, position, with_checksum)
            : binlog::build_heartbeat_v1(server_id, file, static_cast<std::uint32_t>(position),
                                         with_checksum);
}

}  // namespace brelay::relay::downstream
