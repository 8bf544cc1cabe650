// The prepared-statement side of the MySQL protocol as plain structs with encode/decode functions:
// COM_STMT_PREPARE's OK reply, COM_STMT_EXECUTE's parameters, and binary result sets (the column
// definitions as in text result sets, then ProtocolBinary::ResultsetRow rows: a 0x00 header, a
// NULL bitmap with offset 2, and each non-NULL value in its type's binary form). Decoders check
// every field and return errors naming it; nothing here does I/O.
// See MySQL's page_protocol_com_stmt_prepare, page_protocol_com_stmt_execute and
// page_protocol_binary_resultset.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "net/mysql_packets.h"

namespace brelay::net {

namespace command {
inline constexpr std::uint8_t kStmtPrepare = 0x16;
inline constexpr std::uint8_t kStmtExecute = 0x17;
inline constexpr std::uint8_t kStmtSendLongData = 0x18;
inline constexpr std::uint8_t kStmtClose = 0x19;
inline constexpr std::uint8_t kStmtReset = 0x1a;
inline constexpr std::uint8_t kStmtFetch = 0x1c;
}  // namespace command

// COM_STMT_PREPARE_OK and what follows it: a definition per parameter ("?"), then one per column,
// each list ended by EOF unless `deprecate_eof`.
struct StmtPrepareOk {
  std::uint32_t statement_id = 0;
  std::uint16_t parameter_count = 0;
  std::vector<ColumnDefinition> columns;  // may be empty: the columns come with each execution
  std::uint16_t warnings = 0;
};
std::vector<Bytes> encode_stmt_prepare_ok(const StmtPrepareOk& ok, bool deprecate_eof);

// One parameter of COM_STMT_EXECUTE, read by its type: NULL, a number's decimal text, a string's
// bytes, or a temporal value as 'YYYY-MM-DD hh:mm:ss[.ffffff]' / '[-]hh:mm:ss[.ffffff]' text.
struct BoundParameter {
  enum class Kind { kNull, kNumber, kString };
  Kind kind = Kind::kNull;
  std::string text;
};

struct StmtExecute {
  std::uint32_t statement_id = 0;
  std::uint8_t flags = 0;  // cursor type; the relay opens no cursors
  std::vector<BoundParameter> parameters;
  std::vector<std::uint16_t>
      types;  // the types the parameters were read with (to keep for the next execution)
};

// The statement id of a COM_STMT_EXECUTE / CLOSE / RESET / SEND_LONG_DATA (the 4 bytes after the
// command byte).
Result<std::uint32_t> decode_statement_id(ByteView payload);

// Decodes COM_STMT_EXECUTE for a statement with `parameter_count` placeholders; `bound_types` are
// the types of the previous execution, used when the client does not send them again
// (new_params_bound_flag 0).
Result<StmtExecute> decode_stmt_execute(ByteView payload, std::size_t parameter_count,
                                        const std::vector<std::uint16_t>& bound_types);

// A binary row for `columns` from text values (as a text result set holds them). Errors: a value
// that does not read as its column's type.
Result<Bytes> encode_binary_row(const std::vector<ColumnDefinition>& columns, const TextRow& row);

// The payloads of a whole binary result set: column count, definitions, EOF (unless
// `deprecate_eof`), binary rows, and the final EOF (or OK with header 0xFE).
Result<std::vector<Bytes>> encode_binary_result_set(const ResultSet& result, bool deprecate_eof);

}  // namespace brelay::net
