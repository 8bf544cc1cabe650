// What the relay forwards to its source and how it answers prepared statements, fed arbitrary
// bytes: the schema query allow-list (a statement it accepts renders to a text that it accepts
// again and renders the same way, so the source runs exactly what was checked, also with bound
// parameters), COM_STMT_EXECUTE's parameters for any parameter count, and binary rows for any
// column type and text value. Nothing may crash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/binary_protocol.h"
#include "relay/downstream/schema_query.h"

namespace {

using namespace brelay;
using namespace brelay::relay::downstream;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string render(const SchemaQuery& query, std::string_view literal) {
  // Parameters that are not UTF-8 are refused (the forwarding connection is utf8mb4).
  auto quoted = sql_string_literal(literal);
  check(quoted.ok() == is_valid_utf8(literal));
  std::vector<std::string> literals(query.parameter_count(), quoted ? *quoted : std::string("''"));
  auto bound = bind_schema_query(query, literals);
  check(bound.ok());
  return *bound;
}

void schema_query(std::string_view text) {
  auto query = recognize_schema_query(text, "db");
  if (!query) {
    check(query.error().code() > 0);
    return;
  }
  const std::string literal(text.substr(0, 16));
  const std::string rendered = render(*query, literal);
  auto again = recognize_schema_query(rendered, "other");
  check(again.ok());
  check(again->parameter_count() == 0);
  check(again->pieces[0] == rendered);
}

void prepared_statement(std::string_view bytes) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const ByteView payload(data, bytes.size());
  const std::size_t parameters = bytes.empty() ? 0 : data[0] % 8;
  auto execute = net::decode_stmt_execute(payload, parameters, {});
  if (execute) (void)net::decode_stmt_execute(payload, parameters, execute->types);
  // Columns typed by the first bytes, values from the rest.
  std::vector<net::ColumnDefinition> columns;
  net::TextRow row;
  for (std::size_t i = 0; i < bytes.size() && i < 4; ++i) {
    net::ColumnDefinition column = net::ColumnDefinition::text("c");
    column.type = static_cast<net::ColumnType>(data[i]);
    column.flags = (data[i] & 1) != 0 ? net::column_flag::kUnsigned : 0;
    columns.push_back(column);
    row.emplace_back(std::string(bytes.substr(std::min(bytes.size(), 4 + i))));
  }
  (void)net::encode_binary_row(columns, row);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    schema_query(rest);
  } else {
    prepared_statement(rest);
  }
  return 0;
}
