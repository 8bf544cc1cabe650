#include "relay/binlog/table_map_event.h"

#include "common/byte_reader.h"

namespace brelay::binlog {

namespace {

Result<std::uint64_t> read_table_id(ByteReader& reader, std::uint8_t post_header_length) {
  return reader.uint_n(post_header_length == 6 ? 4 : 6, "table_id");
}

}  // namespace

Result<TableMapEvent> parse_table_map(const EventView& event, std::uint8_t post_header_length) {
  if (event.header.type != EventType::kTableMap) {
    return make_error("expected a Table_map event, got {}", event_type_name(event.header.type));
  }
  ByteReader reader(event.body);
  TableMapEvent map;
  BRELAY_ASSIGN_OR_RETURN(map.table_id, read_table_id(reader, post_header_length));
  BRELAY_TRY(reader.skip(2, "Table_map flags"));
  BRELAY_ASSIGN_OR_RETURN(std::uint8_t schema_length, reader.u8("Table_map schema length"));
  BRELAY_ASSIGN_OR_RETURN(map.schema, reader.text(schema_length, "Table_map schema"));
  BRELAY_TRY(reader.skip(1, "Table_map schema terminator"));
  BRELAY_ASSIGN_OR_RETURN(std::uint8_t table_length, reader.u8("Table_map table length"));
  BRELAY_ASSIGN_OR_RETURN(map.table, reader.text(table_length, "Table_map table"));
  return map;
}

Result<RowsEventHeader> parse_rows_header(const EventView& event, std::uint8_t post_header_length) {
  if (!is_rows_event(event.header.type)) {
    return make_error("expected a rows event, got {}", event_type_name(event.header.type));
  }
  ByteReader reader(event.body);
  RowsEventHeader rows;
  BRELAY_ASSIGN_OR_RETURN(rows.table_id, read_table_id(reader, post_header_length));
  BRELAY_ASSIGN_OR_RETURN(rows.flags, reader.u16("rows event flags"));
  return rows;
}

}  // namespace brelay::binlog
