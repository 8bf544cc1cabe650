#include "relay/binlog/rotate_event.h"

#include "common/byte_reader.h"

namespace brelay::binlog {

Result<RotateEvent> parse_rotate(const EventView& event) {
  if (event.header.type != EventType::kRotate) {
    return make_error("expected a Rotate event, got {}", event_type_name(event.header.type));
  }
  ByteReader reader(event.body);
  RotateEvent rotate;
  auto position = reader.u64("Rotate position");
  if (!position) return std::move(position).error();
  rotate.position = *position;
  rotate.next_file = reader.rest_text();
  if (rotate.next_file.empty()) return make_error("Rotate event without a file name");
  rotate.artificial = event.header.artificial() || event.header.log_pos == 0;
  return rotate;
}

std::string rotate_info(const RotateEvent& rotate) {
  return fmt::format("{};pos={}", rotate.next_file, rotate.position);
}

}  // namespace brelay::binlog
