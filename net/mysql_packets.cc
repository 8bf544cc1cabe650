#include "net/mysql_packets.h"

#include "common/byte_reader.h"
#include "common/byte_writer.h"

namespace brelay::net {

Bytes encode_ok(const OkPacket& ok, std::uint8_t header) {
  ByteWriter w;
  w.u8(header).lenenc(ok.affected_rows).lenenc(ok.last_insert_id).u16(ok.status_flags).u16(ok.warnings);
  w.text(ok.info);
  return std::move(w).take();
}

Result<OkPacket> decode_ok(ByteView payload, std::uint32_t capabilities) {
  ByteReader r(payload);
  BRELAY_ASSIGN_OR_RETURN(auto header, r.u8("OK header"));
  if (header != kOkHeader && header != kEofHeader)
    return make_error("not an OK packet: first byte 0x{:02x}", header);
  OkPacket ok;
  BRELAY_ASSIGN_OR_RETURN(ok.affected_rows, r.lenenc("OK affected rows"));
  BRELAY_ASSIGN_OR_RETURN(ok.last_insert_id, r.lenenc("OK last insert id"));
  if (r.at_end()) return ok;  // pre-4.1 servers stop here
  BRELAY_ASSIGN_OR_RETURN(ok.status_flags, r.u16("OK status flags"));
  BRELAY_ASSIGN_OR_RETURN(ok.warnings, r.u16("OK warnings"));
  if (capabilities & capability::kSessionTrack) {
    if (r.at_end()) return ok;
    BRELAY_ASSIGN_OR_RETURN(auto info, r.lenenc_text("OK info"));
    ok.info = std::string(info);
    r.rest();  // session state changes, not used
  } else {
    ok.info = std::string(r.rest_text());
  }
  return ok;
}

Bytes encode_err(const ErrPacket& err) {
  ByteWriter w;
  std::string state = err.sql_state;
  state.resize(5, '0');
  w.u8(kErrHeader).u16(err.code).u8('#').text(state).text(err.message);
  return std::move(w).take();
}

Result<ErrPacket> decode_err(ByteView payload) {
  ByteReader r(payload);
  BRELAY_ASSIGN_OR_RETURN(auto header, r.u8("ERR header"));
  if (header != kErrHeader) return make_error("not an ERR packet: first byte 0x{:02x}", header);
  ErrPacket err;
  BRELAY_ASSIGN_OR_RETURN(err.code, r.u16("ERR code"));
  err.sql_state.clear();
  if (!r.at_end() && r.whole()[r.position()] == '#') {
    BRELAY_TRY(r.skip(1, "ERR SQL state marker"));
    BRELAY_ASSIGN_OR_RETURN(auto state, r.text(5, "ERR SQL state"));
    err.sql_state = std::string(state);
  }
  err.message = std::string(r.rest_text());
  return err;
}

Bytes encode_eof(const EofPacket& eof) {
  ByteWriter w;
  w.u8(kEofHeader).u16(eof.warnings).u16(eof.status_flags);
  return std::move(w).take();
}

Result<EofPacket> decode_eof(ByteView payload) {
  if (!is_eof_packet(payload)) return make_error("not an EOF packet ({} bytes)", payload.size());
  ByteReader r(payload);
  BRELAY_TRY(r.skip(1, "EOF header"));
  EofPacket eof;
  if (r.at_end()) return eof;  // pre-4.1
  BRELAY_ASSIGN_OR_RETURN(eof.warnings, r.u16("EOF warnings"));
  BRELAY_ASSIGN_OR_RETURN(eof.status_flags, r.u16("EOF status flags"));
  return eof;
}

ColumnDefinition ColumnDefinition::text(std::string name, std::uint32_t length) {
  ColumnDefinition c;
  c.name = name;
  c.org_name = std::move(name);
  c.length = length;
  return c;
}

ColumnDefinition ColumnDefinition::unsigned_integer(std::string name) {
  ColumnDefinition c;
  c.name = name;
  c.org_name = std::move(name);
  c.type = ColumnType::kLongLong;
  c.charset = charset::kBinary;
  c.length = 20;
  c.flags = column_flag::kUnsigned | column_flag::kBinary;
  return c;
}

ColumnDefinition ColumnDefinition::signed_integer(std::string name) {
  ColumnDefinition c = unsigned_integer(std::move(name));
  c.flags = column_flag::kBinary;
  return c;
}

Bytes encode_column_definition(const ColumnDefinition& column) {
  ByteWriter w;
  w.lenenc_text("def").lenenc_text(column.schema).lenenc_text(column.table).lenenc_text(column.org_table);
  w.lenenc_text(column.name).lenenc_text(column.org_name);
  w.lenenc(0x0c).u16(column.charset).u32(column.length).u8(static_cast<std::uint8_t>(column.type));
  w.u16(column.flags).u8(column.decimals).u16(0);
  return std::move(w).take();
}

Result<ColumnDefinition> decode_column_definition(ByteView payload) {
  ByteReader r(payload);
  ColumnDefinition c;
  BRELAY_ASSIGN_OR_RETURN(auto catalog, r.lenenc_text("column catalog"));
  (void)catalog;
  BRELAY_ASSIGN_OR_RETURN(auto schema, r.lenenc_text("column schema"));
  BRELAY_ASSIGN_OR_RETURN(auto table, r.lenenc_text("column table"));
  BRELAY_ASSIGN_OR_RETURN(auto org_table, r.lenenc_text("column org_table"));
  BRELAY_ASSIGN_OR_RETURN(auto name, r.lenenc_text("column name"));
  BRELAY_ASSIGN_OR_RETURN(auto org_name, r.lenenc_text("column org_name"));
  c.schema = std::string(schema);
  c.table = std::string(table);
  c.org_table = std::string(org_table);
  c.name = std::string(name);
  c.org_name = std::string(org_name);
  BRELAY_ASSIGN_OR_RETURN(auto fixed_length, r.lenenc("column fixed fields length"));
  if (fixed_length < 0x0c)
    return make_error("column definition fixed fields of {} bytes, expected 12", fixed_length);
  BRELAY_ASSIGN_OR_RETURN(c.charset, r.u16("column character set"));
  BRELAY_ASSIGN_OR_RETURN(c.length, r.u32("column length"));
  BRELAY_ASSIGN_OR_RETURN(auto type, r.u8("column type"));
  c.type = static_cast<ColumnType>(type);
  BRELAY_ASSIGN_OR_RETURN(c.flags, r.u16("column flags"));
  BRELAY_ASSIGN_OR_RETURN(c.decimals, r.u8("column decimals"));
  BRELAY_TRY(r.skip(static_cast<std::size_t>(fixed_length - 10), "column definition filler"));
  return c;
}

Bytes encode_text_row(const TextRow& row) {
  ByteWriter w;
  for (const auto& value : row) {
    if (value)
      w.lenenc_text(*value);
    else
      w.u8(0xfb);
  }
  return std::move(w).take();
}

Result<TextRow> decode_text_row(ByteView payload, std::size_t column_count) {
  ByteReader r(payload);
  TextRow row;
  row.reserve(std::min<std::size_t>(column_count, payload.size()));
  for (std::size_t i = 0; i < column_count; ++i) {
    BRELAY_ASSIGN_OR_RETURN(auto length, r.lenenc_or_null("row value length"));
    if (!length) {
      row.emplace_back(std::nullopt);
      continue;
    }
    if (*length > r.remaining())
      return make_error("truncated row value {}: length {} but {} bytes remain", i + 1, *length,
                        r.remaining());
    BRELAY_ASSIGN_OR_RETURN(auto value, r.text(static_cast<std::size_t>(*length), "row value"));
    row.emplace_back(std::string(value));
  }
  BRELAY_TRY(r.expect_end("text row"));
  return row;
}

std::vector<Bytes> encode_result_set(const ResultSet& result, bool deprecate_eof,
                                     std::uint16_t status_flags) {
  std::vector<Bytes> packets;
  packets.reserve(result.columns.size() + result.rows.size() + 3);
  ByteWriter count;
  count.lenenc(result.columns.size());
  packets.push_back(std::move(count).take());
  for (const auto& column : result.columns)
    packets.push_back(encode_column_definition(column));
  if (!deprecate_eof) packets.push_back(encode_eof({.warnings = 0, .status_flags = status_flags}));
  for (const auto& row : result.rows)
    packets.push_back(encode_text_row(row));
  if (deprecate_eof) {
    OkPacket end;
    end.status_flags = status_flags;
    packets.push_back(encode_ok(end, kEofHeader));
  } else {
    packets.push_back(encode_eof({.warnings = 0, .status_flags = status_flags}));
  }
  return packets;
}

}  // namespace brelay::net
