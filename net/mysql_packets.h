// Command-phase replies of the MySQL protocol as plain structs with encode/decode functions: OK,
// ERR, EOF, and text result sets (column count, ColumnDefinition41, text rows). Decoders check every
// field and return errors naming it; nothing here does I/O.
// See MySQL's page_protocol_basic_response_packets and page_protocol_com_query_response_text_resultset.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "net/mysql_constants.h"

namespace brelay::net {

inline constexpr std::uint8_t kOkHeader = 0x00;
inline constexpr std::uint8_t kEofHeader = 0xfe;
inline constexpr std::uint8_t kErrHeader = 0xff;

struct OkPacket {
  std::uint64_t affected_rows = 0;
  std::uint64_t last_insert_id = 0;
  std::uint16_t status_flags = server_status::kAutocommit;
  std::uint16_t warnings = 0;
  std::string info;
};

struct ErrPacket {
  std::uint16_t code = 0;
  std::string sql_state = "HY000";  // five characters
  std::string message;
};

struct EofPacket {
  std::uint16_t warnings = 0;
  std::uint16_t status_flags = server_status::kAutocommit;
};

// OK with header 0x00, or with 0xFE for the end of a result set under CLIENT_DEPRECATE_EOF.
Bytes encode_ok(const OkPacket& ok, std::uint8_t header = kOkHeader);
// Decodes an OK (header 0x00 or 0xFE). `capabilities` are the negotiated ones: with
// CLIENT_SESSION_TRACK the info is length-encoded and session state may follow (skipped).
Result<OkPacket> decode_ok(ByteView payload, std::uint32_t capabilities);

Bytes encode_err(const ErrPacket& err);
Result<ErrPacket> decode_err(ByteView payload);

Bytes encode_eof(const EofPacket& eof);
Result<EofPacket> decode_eof(ByteView payload);

// Classifies a reply by its first byte and size. An EOF packet (and an OK that ends a result set
// under DEPRECATE_EOF) starts with 0xFE and is shorter than a full chunk; a row or a binlog event
// can also start with 0xFE only when it is at least that long.
inline bool is_err_packet(ByteView payload) {
  return !payload.empty() && payload[0] == kErrHeader;
}
inline bool is_eof_packet(ByteView payload) {
  return !payload.empty() && payload[0] == kEofHeader && payload.size() < 9;
}
inline bool is_result_set_end(ByteView payload) {
  return !payload.empty() && payload[0] == kEofHeader && payload.size() < kMaxPacketChunk;
}

// ColumnDefinition41.
struct ColumnDefinition {
  std::string schema;
  std::string table;
  std::string org_table;
  std::string name;
  std::string org_name;
  std::uint16_t charset = charset::kUtf8GeneralCi;
  std::uint32_t length = 0;
  ColumnType type = ColumnType::kVarString;
  std::uint16_t flags = 0;
  std::uint8_t decimals = 0;

  // A text column; the common case for the relay's answers.
  static ColumnDefinition text(std::string name, std::uint32_t length = 1024);
  // An unsigned 64-bit integer column (client drivers return numbers for these).
  static ColumnDefinition unsigned_integer(std::string name);
  static ColumnDefinition signed_integer(std::string name);
};

Bytes encode_column_definition(const ColumnDefinition& column);
Result<ColumnDefinition> decode_column_definition(ByteView payload);

// A text-protocol row: one value per column, std::nullopt for SQL NULL.
using TextRow = std::vector<std::optional<std::string>>;

Bytes encode_text_row(const TextRow& row);
// Decodes a row of exactly `column_count` values.
Result<TextRow> decode_text_row(ByteView payload, std::size_t column_count);

struct ResultSet {
  std::vector<ColumnDefinition> columns;
  std::vector<TextRow> rows;
};

// The payloads of a whole text result set, in order: column count, definitions, EOF (unless
// `deprecate_eof`), rows, and the final EOF (or OK with header 0xFE under `deprecate_eof`).
std::vector<Bytes> encode_result_set(const ResultSet& result, bool deprecate_eof,
                                     std::uint16_t status_flags = server_status::kAutocommit);

}  // namespace brelay::net
