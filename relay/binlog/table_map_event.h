// TABLE_MAP_EVENT (19) and the common post-header of row events: just enough to name the table
// (SHOW BINLOG EVENTS, `binlog-relay dump`). Post-header: 6-byte table id (4 bytes when the FDE
// declares a 6-byte post-header, pre-5.1.4 servers), u16 flags. Table map body: u8 schema length,
// schema, NUL, u8 table length, table, NUL, then column metadata the relay does not read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "relay/binlog/event_header.h"

namespace brelay::binlog {

inline constexpr std::uint16_t kRowsStatementEndFlag = 0x1;  // STMT_END_F

struct TableMapEvent {
  std::uint64_t table_id = 0;
  std::string_view schema;  // views into the event's bytes
  std::string_view table;
};

struct RowsEventHeader {
  std::uint64_t table_id = 0;
  std::uint16_t flags = 0;
};

// `post_header_length` is the FDE's entry for the type (8 on every current server; 6 means a
// 4-byte table id).
Result<TableMapEvent> parse_table_map(const EventView& event, std::uint8_t post_header_length = 8);
Result<RowsEventHeader> parse_rows_header(const EventView& event, std::uint8_t post_header_length = 8);

}  // namespace brelay::binlog
