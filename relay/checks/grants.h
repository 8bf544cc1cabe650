// Global privileges from the lines SHOW GRANTS prints (MySQL 5.7/8.0 and MariaDB 10.x):
// "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl`@`%`", "GRANT ALL PRIVILEGES ON *.*
// TO ...", MariaDB's "BINLOG MONITOR", "REPLICA MONITOR" and the like. Only grants ON *.* count;
// role grants ("GRANT `role` TO `user`") are listed so that the caller can say their privileges
// were not read. Pure functions, any thread.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace brelay::relay {

struct GlobalPrivileges {
  bool all = false;                // ALL [PRIVILEGES] ON *.*
  std::set<std::string> granted;   // upper case, single spaces: "REPLICATION SLAVE", "SELECT", ...
  std::vector<std::string> roles;  // roles granted to the account (their privileges are not included)

  // True when `privilege` (upper case) is granted on *.*, directly or through ALL.
  bool has(std::string_view privilege) const;
};

GlobalPrivileges parse_global_privileges(const std::vector<std::string>& show_grants_lines);

}  // namespace brelay::relay
