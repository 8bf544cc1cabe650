#include "relay/binlog/gtid_list_event.h"

#include "common/byte_reader.h"

namespace brelay::binlog {

Result<GtidListEvent> parse_gtid_list(const EventView& event) {
  if (event.header.type != EventType::kGtidList) {
    return make_error("expected a Gtid_list event, got {}", event_type_name(event.header.type));
  }
  ByteReader reader(event.body);
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t count_and_flags, reader.u32("Gtid_list count"));
  GtidListEvent list;
  const std::uint32_t count = count_and_flags & 0x0fffffff;
  list.flags = static_cast<std::uint8_t>(count_and_flags >> 28);
  if (count > reader.remaining() / 16) {
    return make_error("Gtid_list event announces {} GTIDs but has room for {}", count,
                      reader.remaining() / 16);
  }
  list.gtids.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    MariadbGtid gtid;
    gtid.domain_id = *reader.u32("Gtid_list domain_id");
    gtid.server_id = *reader.u32("Gtid_list server_id");
    gtid.seq_no = *reader.u64("Gtid_list seq_no");
    list.gtids.push_back(gtid);
  }
  return list;
}

std::string gtid_list_info(const GtidListEvent& list) {
  return "[" + to_string(list.gtids) + "]";
}

Result<std::string_view> parse_binlog_checkpoint(const EventView& event) {
  if (event.header.type != EventType::kBinlogCheckpoint) {
    return make_error("expected a Binlog_checkpoint event, got {}", event_type_name(event.header.type));
  }
  ByteReader reader(event.body);
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t length, reader.u32("Binlog_checkpoint name length"));
  return reader.text(length, "Binlog_checkpoint file name");
}

}  // namespace brelay::binlog
