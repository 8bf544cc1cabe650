// Helpers for the upstream's integration tests: read the relay's store from the test process (a
// read-only open beside the running relay), wait for the relay to store a source position, compare
// the stored files byte for byte with the source's own binlog files, and drive sysbench load.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "storage/store_types.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/process.h"
#include "tests/support/relay_process.h"

namespace brelay::testing {

// The store's durable end as a read-only open sees it now (nullopt: nothing stored).
Result<std::optional<storage::ResumePoint>> stored_end(const std::string& data_dir);
// The stored files, oldest first.
Result<std::vector<storage::FileInfo>> stored_files(const std::string& data_dir);

// SHOW MASTER STATUS: the source's current file and position.
Result<std::pair<std::string, std::uint64_t>> master_status(MariaDbServer& source);
// SHOW BINARY LOGS: the source's files, oldest first.
Result<std::vector<std::string>> binary_logs(MariaDbServer& source);

// Waits until the store's durable end is at `file`:`position` or beyond. On timeout the error
// carries the relay's log when `relay` is given.
Status wait_for_stored(const std::string& data_dir, const std::string& file, std::uint64_t position,
                       std::chrono::milliseconds timeout, RelayProcess* relay = nullptr);
// Waits until the relay stored everything the source has written so far (SHOW MASTER STATUS).
Status wait_for_catch_up(MariaDbServer& source, const std::string& data_dir,
                         std::chrono::milliseconds timeout, RelayProcess* relay = nullptr);
// The same through the relay's own SHOW MASTER STATUS on `relay_port` (an encrypted store does not
// open read-only without its key).
Status wait_for_relay_catch_up(MariaDbServer& source, std::uint16_t relay_port,
                               std::chrono::milliseconds timeout, RelayProcess* relay = nullptr);
// FLUSH BINARY LOGS on the source (closing its current file), then wait_for_catch_up: afterwards
// every file but the newest is closed on both sides.
Status flush_and_catch_up(MariaDbServer& source, const std::string& data_dir,
                          std::chrono::milliseconds timeout, RelayProcess* relay = nullptr);

struct FileComparison {
  std::size_t compared = 0;              // closed stored files compared with the source's
  std::uint64_t compared_bytes = 0;      // their total size
  std::vector<std::string> differences;  // empty when every compared file is identical
};
// Exports every closed file of the store that it holds from position 4 (relay/tools/binlog_export.h) into
// `scratch_dir` and compares it with the source's file of the same name. A stored file the source does not
// have is a difference; so is a source file between the first and the last stored one that the store lacks.
Result<FileComparison> compare_closed_files(MariaDbServer& source, const std::string& data_dir,
                                            const std::string& scratch_dir);
// Compares the events stored for one file (closed or not, from position 4 or later) with the
// bytes at the same positions of `path`, which may be longer than what is stored. "" when equal,
// else what differs.
Result<std::string> compare_stored_events(const std::string& data_dir, const std::string& file,
                                          const std::string& path, const std::string& scratch_dir);

// sysbench oltp_write_only against `source` (root over its Unix socket).
Status sysbench_prepare(MariaDbServer& source, int tables, int table_size);
// Starts `sysbench oltp_write_only run` for `seconds` in the background (output to `log_path`).
Result<Process> start_sysbench(MariaDbServer& source, int tables, int table_size, int seconds, int threads,
                               const std::string& log_path);

// The relay's data directory and the log of a stopped relay, for failure messages.
std::string relay_log_tail(RelayProcess* relay, std::size_t lines = 40);

}  // namespace brelay::testing
