#include "relay/binlog/xid_event.h"

#include "common/byte_reader.h"

namespace brelay::binlog {

Result<std::uint64_t> parse_xid(const EventView& event) {
  if (event.header.type != EventType::kXid) {
    return make_error("expected an Xid event, got {}", event_type_name(event.header.type));
  }
  ByteReader reader(event.body);
  return reader.u64("Xid");
}

std::string xid_info(std::uint64_t xid) {
  return fmt::format("COMMIT /* xid={} */", xid);
}

}  // namespace brelay::binlog
