// Why a source refused the relay's binlog dump: decided from the MySQL error code the dump ended
// with and from what the relay then finds out itself (the source's SHOW BINARY LOGS), never from
// the error's text, which differs between servers, versions and languages.
//
// What the servers send to a dump client whose start is not available, read in their sources:
//  - MySQL 5.7 / 8.0, sql/rpl_binlog_sender.{h,cc} (Binlog_sender::set_fatal_error; 5.6:
//    sql/rpl_master.cc): every positioning failure is ER_MASTER_FATAL_ERROR_READING_BINLOG (1236)
//    with the reason as text: the requested file is not in the index ("Could not find first log
//    file name in binary log index file"), the replica's GTID set lacks purged GTIDs (the text of
//    ER_MASTER_HAS_PURGED_REQUIRED_GTIDS, 1789, inside the 1236), a position past the file's end,
//    ... Other failures are ER_UNKNOWN_ERROR (1105, set_unknown_error): not a refusal.
//  - MariaDB 10.x, sql/sql_repl.cc (the error exit of mysql_binlog_send): the GTID start errors
//    ER_GTID_POSITION_NOT_FOUND_IN_BINLOG (1945), ER_GTID_START_FROM_BINLOG_HOLE (1951) and
//    ER_GTID_POSITION_NOT_FOUND_IN_BINLOG2 (1955) are rewritten to 1236 before they are sent ("so
//    slave will know not to try reconnect"), as is a @slave_connect_state older than every binlog
//    ("Could not find GTID state requested by slave in any binlog files. Probably the slave state
//    is too old and required binlog files have been purged.", from gtid_find_binlog_file).
//    Numbers: include/mysqld_error.h, sql/share/errmsg-utf8.txt of each server.
// So in practice the code is always 1236; the underlying codes are accepted too, should a server
// or proxy pass one through unchanged. Whether the source purged what the relay needs is then a
// fact the relay checks: the file it needs is missing from the source's binary logs, or (MySQL
// auto-positioning) the source's @@GLOBAL.gtid_purged holds GTIDs the relay's set lacks, the very
// check of Binlog_sender::check_start_file. MariaDB has no such variable (@@gtid_binlog_state does
// not change on PURGE BINARY LOGS): there the file is the only fact.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/binlog/gtid_set.h"

namespace brelay::relay {

// The error codes with which a source refuses to start a dump where the relay asked (see above).
inline constexpr std::array<int, 5> kDumpRefusedCodes = {
    1236,  // ER_MASTER_FATAL_ERROR_READING_BINLOG: what MySQL and MariaDB send
    1789,  // ER_MASTER_HAS_PURGED_REQUIRED_GTIDS (MySQL; sent as the text of a 1236)
    1945,  // ER_GTID_POSITION_NOT_FOUND_IN_BINLOG (MariaDB; sent as 1236)
    1951,  // ER_GTID_START_FROM_BINLOG_HOLE (MariaDB; sent as 1236)
    1955,  // ER_GTID_POSITION_NOT_FOUND_IN_BINLOG2 (MariaDB; sent as 1236)
};

// True for a code of kDumpRefusedCodes: the source will not send from there, reconnecting does
// not help.
bool is_dump_refused(int code);

// What the relay asked SHOW BINARY LOGS on a second connection after the refusal.
struct SourceBinlogs {
  bool listed = false;             // false: the probe could not connect or the query failed
  std::vector<std::string> names;  // the source's binary logs, oldest first
  // For a MySQL GTID dump: the source's @@GLOBAL.gtid_purged (nullopt: not asked or unreadable).
  std::optional<binlog::GtidSet> purged_gtids;
};

enum class DumpRefusal {
  kPurged,   // the binlog the relay needs is gone from the source
  kRefused,  // anything else (a bad position, a diverged GTID state, or it could not be checked)
};

// Decides a refusal (`code` of kDumpRefusedCodes, else kRefused). `needed_file` is the binlog the
// relay needs the source to have: the file it asked for, else the file its store ends in; "" when
// it asked for the source's first binlog on an empty store. `requested_gtids`: the set a MySQL GTID
// dump sent (null otherwise). kPurged when the source's purged GTIDs are not a subset of
// `requested_gtids`, or when it listed its binary logs and `needed_file` is not among them (with
// "", when it has none at all).
DumpRefusal classify_dump_refusal(int code, std::string_view needed_file, const SourceBinlogs& binlogs,
                                  const binlog::GtidSet* requested_gtids = nullptr);

// The `needed_file` of a GTID dump: the relay's own file says whether the source purged it only
// when the source names its binlogs alike (the same base name before the number, as the same server
// does); after a failover to a server with other names it says nothing, and "" is returned (then
// only a source with no binlog at all has purged what the relay needs).
std::string_view gtid_dump_needed_file(std::string_view relay_file, const SourceBinlogs& binlogs);

}  // namespace brelay::relay
