// Test helper: builds small events (header, body, optional CRC) to drive parsers and the tracker.
#pragma once

#include <string_view>

#include "common/byte_writer.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/event_header.h"

namespace brelay::binlog::testing {

inline Bytes make_event(EventType type, ByteView body, bool checksum = true, std::uint32_t server_id = 1,
                        std::uint32_t log_pos = 0, std::uint16_t flags = 0) {
  EventHeader header;
  header.type = type;
  header.server_id = server_id;
  header.log_pos = log_pos;
  header.flags = flags;
  header.event_size =
      static_cast<std::uint32_t>(kEventHeaderSize + body.size() + (checksum ? kChecksumSize : 0));
  Bytes event(header.event_size);
  write_event_header(header, event);
  std::copy(body.begin(), body.end(), event.begin() + kEventHeaderSize);
  if (checksum) store_event_checksum(event);
  return event;
}

inline Bytes query_body(std::string_view sql, std::string_view schema = "db") {
  ByteWriter body;
  body.u32(7).u32(0).u8(static_cast<std::uint8_t>(schema.size())).u16(0).u16(0).text(schema).u8(0).text(sql);
  return std::move(body).take();
}

inline Bytes make_query(std::string_view sql, bool checksum = true) {
  return make_event(EventType::kQuery, query_body(sql), checksum);
}

inline Bytes make_mysql_gtid(std::string_view uuid_hex16, std::int64_t gno, bool checksum = true) {
  ByteWriter body;
  body.u8(1);
  for (std::size_t i = 0; i < 16; ++i)
    body.u8(static_cast<std::uint8_t>(uuid_hex16[i % uuid_hex16.size()]));
  body.i64(gno).u8(2).i64(0).i64(1);
  return make_event(gno == 0 ? EventType::kAnonymousGtid : EventType::kGtid, body.data(), checksum);
}

inline Bytes make_mariadb_gtid(std::uint32_t domain, std::uint32_t server_id, std::uint64_t seq,
                               std::uint8_t flags2, bool checksum = true) {
  ByteWriter body;
  body.u64(seq).u32(domain).u8(flags2).zeros(6);
  return make_event(EventType::kMariadbGtid, body.data(), checksum, server_id);
}

inline Bytes make_xid(std::uint64_t xid, bool checksum = true) {
  ByteWriter body;
  body.u64(xid);
  return make_event(EventType::kXid, body.data(), checksum);
}

}  // namespace brelay::binlog::testing
