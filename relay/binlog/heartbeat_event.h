// HEARTBEAT_LOG_EVENT (27) and HEARTBEAT_LOG_EVENT_V2 (41): what a master sends while idle.
// v1: body = the current file name, header log_pos = the position (32 bits). v2 (MySQL 8.0.28+,
// asked for with dump flag 0x02): body = (packed type, packed length, value) fields, 1 = file
// name, 2 = position as a packed integer, 0 = end. Builders are in event_builders.h.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "relay/binlog/event_header.h"

namespace brelay::binlog {

struct Heartbeat {
  std::string_view file;  // a view into the event's bytes
  std::uint64_t position = 0;
};

// Parses either version.
Result<Heartbeat> parse_heartbeat(const EventView& event);

}  // namespace brelay::binlog
