// ROTATE_EVENT (type 4): body u64 position + the next file's name (to the end of the body). A
// real ROTATE ends a file; a fake one (LOG_EVENT_ARTIFICIAL_F, log_pos 0) opens a dump stream or
// announces the next file without being part of any file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "relay/binlog/event_header.h"

namespace brelay::binlog {

struct RotateEvent {
  std::uint64_t position = 0;
  std::string_view next_file;  // a view into the event's bytes
  bool artificial = false;     // fake ROTATE: ARTIFICIAL flag set or log_pos 0
};

Result<RotateEvent> parse_rotate(const EventView& event);

// SHOW BINLOG EVENTS Info: "mysql-bin.000002;pos=4".
std::string rotate_info(const RotateEvent& rotate);

}  // namespace brelay::binlog
