// The statement parser fed arbitrary COM_QUERY text, with a per-input time budget (CTest runs it
// with -timeout=2): deep nesting, token floods and long literals must end in bounded work. A
// statement that parses must parse again the same way; a refusal carries a MySQL code and a
// message of bounded size (it quotes at most 80 bytes of the statement).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "relay/downstream/sql_statement.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace brelay::relay::downstream;
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  auto statement = parse_statement(sql);
  if (!statement) {
    check(statement.error().code() > 0);
    check(statement.error().message().size() < 1024);
    return 0;
  }
  auto again = parse_statement(sql);
  check(again.ok() && again->index() == statement->index());
  return 0;
}
