// What a downstream session reads from clients and the store, fed arbitrary bytes: the statement
// parser (every COM_QUERY text), LIKE patterns, the dump settings taken from user variables set by
// a parsed SET, COM_BINLOG_DUMP_GTID's GTID set, and a stored file's previous-GTID blob. Nothing
// may crash; a statement that parses must parse the same way again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/replication_commands.h"
#include "relay/core/stored_gtids.h"
#include "relay/downstream/dump_request.h"
#include "relay/downstream/sql_statement.h"

namespace {

using namespace brelay;
using namespace brelay::relay::downstream;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool has_wildcards(std::string_view text) {
  return text.find_first_of("%_\\") != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto statement = parse_statement(text);
      if (!statement) {
        check(statement.error().code() > 0);
        return 0;
      }
      check(parse_statement(text).ok());
      if (auto* set = std::get_if<SetStatement>(&*statement)) {
        UserVariables variables;
        for (const Assignment& assignment : set->assignments) {
          if (assignment.target == Assignment::Target::kUserVariable)
            variables.set(assignment.name, UserValue::string(assignment.value.text));
        }
        (void)dump_settings_from(variables);
      }
      break;
    }
    case 1: {
      const std::size_t half = text.size() / 2;
      const std::string_view pattern = text.substr(0, std::min<std::size_t>(half, 64));
      const std::string_view subject = text.substr(half, 64);
      (void)like_matches(pattern, subject);
      if (!has_wildcards(subject)) check(like_matches(subject, subject));
      break;
    }
    case 2: {
      net::BinlogDumpGtid command;
      command.gtid_set.assign(data + 1, data + size);
      DumpRequest request;
      Status applied = apply_dump_gtid_command(command, request);
      if (applied) check(request.mysql_gtids.encode().size() <= command.gtid_set.size() + 64);
      break;
    }
    case 3: {
      (void)relay::decode_previous_gtids(ByteView(data + 1, size - 1));
      break;
    }
  }
  return 0;
}
