// Reading back what `binlog-relay azure` prints, for tests: the value of SET @ca, the CALL of
// mysql.az_replication_change_master[_with_gtid] with its arguments decoded (string literals
// unescaped as MySQL does; numbers and @ca as written), whether az_replication_start follows, and
// the --gtid-set of the `az mysql flexible-server gtid reset` line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace brelay::testing {

struct PrintedAzureSetup {
  std::string ca;                 // @ca's value
  std::string procedure;          // e.g. "mysql.az_replication_change_master"
  std::vector<std::string> args;  // the CALL's arguments
  bool starts = false;            // CALL mysql.az_replication_start; follows
  std::optional<std::string> gtid_reset_set;
  std::string gtid_reset_line;  // the whole az line
};

// Errors: a statement that does not parse, or no SET @ca / change_master CALL.
Result<PrintedAzureSetup> parse_printed_azure_setup(std::string_view text);

}  // namespace brelay::testing
