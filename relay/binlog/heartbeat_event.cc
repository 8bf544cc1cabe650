#include "relay/binlog/heartbeat_event.h"

#include "common/byte_reader.h"

namespace brelay::binlog {

Result<Heartbeat> parse_heartbeat(const EventView& event) {
  Heartbeat heartbeat;
  if (event.header.type == EventType::kHeartbeat) {
    heartbeat.file = as_text(event.body);
    heartbeat.position = event.header.log_pos;
    return heartbeat;
  }
  if (event.header.type != EventType::kHeartbeatV2) {
    return make_error("expected a Heartbeat event, got {}", event_type_name(event.header.type));
  }
  ByteReader reader(event.body);
  bool has_file = false;
  bool has_position = false;
  while (!reader.at_end()) {
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t field, reader.lenenc("Heartbeat_v2 field type"));
    if (field == 0) break;
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t length, reader.lenenc("Heartbeat_v2 field length"));
    BRELAY_ASSIGN_OR_RETURN(ByteView value,
                            reader.bytes(static_cast<std::size_t>(length), "Heartbeat_v2 field"));
    if (field == 1) {
      heartbeat.file = as_text(value);
      has_file = true;
    } else if (field == 2) {
      ByteReader value_reader(value);
      BRELAY_ASSIGN_OR_RETURN(heartbeat.position, value_reader.lenenc("Heartbeat_v2 position"));
      has_position = true;
    }
  }
  if (!has_file || !has_position) {
    return make_error("Heartbeat_v2 event without {}", has_file ? "a position" : "a file name");
  }
  return heartbeat;
}

}  // namespace brelay::binlog
