// The command-phase reply decoders (OK in both forms, ERR, EOF, ColumnDefinition41, text rows),
// chosen by the first byte; rows take their column count from the second. Whatever decodes must
// encode and decode again to the same value.
#include <cstddef>
#include <cstdint>

#include "net/mysql_packets.h"

namespace {

using namespace brelay;
using namespace brelay::net;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const ByteView payload(data + 2, size - 2);
  switch (data[0] % 6) {
    case 0:
    case 1: {
      const std::uint32_t capabilities = data[0] % 6 == 1 ? capability::kSessionTrack : 0;
      auto ok = decode_ok(payload, capabilities);
      if (!ok) return 0;
      auto again = decode_ok(encode_ok(*ok), 0);
      check(again.ok() && again->affected_rows == ok->affected_rows &&
            again->last_insert_id == ok->last_insert_id);
      break;
    }
    case 2: {
      auto err = decode_err(payload);
      if (!err || err->sql_state.size() != 5) return 0;
      auto again = decode_err(encode_err(*err));
      check(again.ok() && again->code == err->code && again->message == err->message &&
            again->sql_state == err->sql_state);
      break;
    }
    case 3: {
      auto eof = decode_eof(payload);
      if (eof) check(is_eof_packet(payload));
      break;
    }
    case 4: {
      auto column = decode_column_definition(payload);
      if (!column) return 0;
      auto again = decode_column_definition(encode_column_definition(*column));
      check(again.ok() && again->name == column->name && again->type == column->type &&
            again->flags == column->flags);
      break;
    }
    default: {
      const std::size_t columns = data[1];
      auto row = decode_text_row(payload, columns);
      if (!row) return 0;
      check(row->size() == columns);
      auto again = decode_text_row(encode_text_row(*row), columns);
      check(again.ok() && *again == *row);
      break;
    }
  }
  return 0;
}
