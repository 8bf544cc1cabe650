// What a replica asked for when it started a dump: the command (COM_BINLOG_DUMP or
// COM_BINLOG_DUMP_GTID: file, position, flags, server_id, GTID set) together with the settings it
// left in user variables before it (protocol.md sections 1 and 3): the checksum algorithm it can
// take, the heartbeat period, semi-sync, MariaDB's capability and GTID connect state, its uuid.
// Pure; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "net/replication_commands.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/gtid_set.h"
#include "relay/binlog/mariadb_gtid_position.h"
#include "relay/downstream/user_variables.h"

namespace brelay::relay::downstream {

// MariaDB's @mariadb_slave_capability levels (sql/log_event.h MARIA_SLAVE_CAPABILITY_*).
namespace mariadb_capability {
inline constexpr int kUnknown = 0;
inline constexpr int kAnnotate = 1;
inline constexpr int kTolerateHoles = 2;
inline constexpr int kBinlogCheckpoint = 3;
inline constexpr int kGtid = 4;
}  // namespace mariadb_capability

struct DumpRequest {
  bool gtid_command = false;  // COM_BINLOG_DUMP_GTID
  std::string file;           // "" = the oldest file, or found by GTID
  std::uint64_t position = 4;
  std::uint16_t flags = 0;
  std::uint32_t server_id = 0;
  binlog::GtidSet mysql_gtids;  // COM_BINLOG_DUMP_GTID: what the replica has

  // kUndefined: the replica never announced one (a checksum-unaware replica).
  binlog::ChecksumAlgorithm replica_checksum = binlog::ChecksumAlgorithm::kUndefined;
  std::chrono::nanoseconds heartbeat_period{0};
  bool semi_sync = false;
  std::optional<int> mariadb_capability;  // set: a MariaDB replica or reader
  std::optional<binlog::MariadbGtidPosition> mariadb_connect_state;
  bool mariadb_gtid_strict_mode = false;
  bool mariadb_gtid_ignore_duplicates = false;
  std::string replica_uuid;

  bool non_blocking() const { return (flags & net::dump_flag::kNonBlock) != 0 || server_id == 0; }
  // MySQL's heartbeat v2 (flag 0x02 from a MySQL replica; MariaDB uses the flag for annotations).
  bool heartbeat_v2() const {
    return !mariadb_capability && (flags & net::dump_flag::kHeartbeatV2OrAnnotateRows) != 0;
  }
  bool send_annotate_rows() const { return (flags & net::dump_flag::kHeartbeatV2OrAnnotateRows) != 0; }
  // MySQL auto-positioning: COM_BINLOG_DUMP_GTID without a file name.
  bool mysql_auto_position() const { return gtid_command && file.empty(); }
  // The GTID state the replica asked from, as text ("" when it positions by file and position).
  std::string gtid_state_text() const;
};

// The settings of the next dump from the session's user variables. Errors (ER_UNKNOWN_ERROR, as
// MariaDB gives): a @slave_connect_state that is not a GTID position.
Result<DumpRequest> dump_settings_from(const UserVariables& variables);

// Adds a decoded COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID to `request`. The GTID set's errors are
// ER_MALFORMED_GTID_SET_ENCODING, as MySQL reports them.
void apply_dump_command(const net::BinlogDump& command, DumpRequest& request);
Status apply_dump_gtid_command(const net::BinlogDumpGtid& command, DumpRequest& request);

}  // namespace brelay::relay::downstream
