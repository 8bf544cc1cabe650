// Test helpers for serving a store: seed a data directory from binlog files with relay/binlog_import,
// start the real `binlog-relay run` on it (RelayProcess) listening on a free loopback port, and
// talk to it with the real `mariadb` and `mariadb-binlog` clients.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/process.h"
#include "tests/support/relay_process.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {

// Imports `binlog_paths` (oldest first) into the store in `data_dir` (created when missing).
Status seed_store(const std::string& data_dir, const std::vector<std::string>& binlog_paths);

// A relay serving a store seeded from binlog files.
struct ServedStore {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<RelayProcess> relay;
  std::uint16_t port = 0;
  std::string data_dir;
};

// Seeds a store under a new temporary directory and starts a relay on it. `config` supplies the
// rest (users, [server] extras); its data_dir and listen are set here.
Result<ServedStore> serve_binlogs(const std::vector<std::string>& binlog_paths, TestRelayConfig config = {});

// What a running MariaDB `source` has written, served: a clean shutdown closes its binlogs, a new
// relay imports them, and the source restarts (going on in a new file). `first_file` is set to the
// name of the source's first binlog.
Result<ServedStore> serve_source_binlogs(MariaDbServer& source, std::string& first_file,
                                         TestRelayConfig config = {});

// The path of a binlog of the project's test data (tests/data/binlogs/<name>).
std::string test_binlog(const std::string& name);

// Runs the real `mariadb` client against 127.0.0.1:`port` with `sql` (batch mode, no column names).
Result<CommandOutput> mariadb_sql(std::uint16_t port, const std::string& user, const std::string& password,
                                  const std::string& sql, std::vector<std::string> extra_args = {});

// argv for `mariadb-binlog --read-from-remote-server` against 127.0.0.1:`port`; tests append options.
std::vector<std::string> mariadb_binlog_argv(std::uint16_t port, const std::string& user,
                                             const std::string& password);

}  // namespace brelay::testing
