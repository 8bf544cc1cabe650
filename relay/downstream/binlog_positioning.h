// Where a GTID dump starts (protocol.md section 3), with the servers' own checks and texts:
//  - MySQL auto-positioning (COM_BINLOG_DUMP_GTID without a file name): the replica's set must not
//    hold GTIDs of the source's uuid that the binlog lacks ("Replica has more GTIDs ..."), must
//    include what was purged ("Cannot replicate because the source purged required binary logs
//    ..."), and the dump starts at the newest file whose previous-GTID set the replica has
//    (MySQL's find_first_log_not_in_gtid_set); the replica's transactions are then skipped.
//  - MariaDB @slave_connect_state: each requested GTID must be in the binlog state (or its domain
//    unknown to it), and the dump starts at the newest file whose GTID_LIST the replica's state
//    covers (sql_repl.cc check_slave_start_position and gtid_find_binlog_file).
// Errors carry ER_MASTER_FATAL_ERROR_READING_BINLOG (1236), which stops a replica for good, and the
// wording of the source's flavour and version (ReplicationWording). Loop thread (reads the store).
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "common/result.h"
#include "relay/binlog/gtid_set.h"
#include "relay/binlog/mariadb_gtid_position.h"
#include "relay/core/source_identity.h"
#include "relay/downstream/stored_gtid_state.h"
#include "storage/binlog_store.h"

namespace brelay::relay::downstream {

// MySQL 8.0.26 and later say "source" and "replica"; older MySQL and MariaDB "master" and "slave".
struct ReplicationWording {
  bool new_terms = false;

  static ReplicationWording for_source(const SourceIdentity& source);
  std::string_view source() const { return new_terms ? "source" : "master"; }
  std::string_view replica() const { return new_terms ? "replica" : "slave"; }
  std::string_view Replica() const { return new_terms ? "Replica" : "Slave"; }
};

// An error with code 1236 (the replica stops and shows `message`).
Error fatal_binlog_error(std::string message);

struct MysqlGtidStart {
  std::string file;
  // The file's first transaction is one the replica has: its FDE goes out with `created` 0.
  bool skips_first_transaction = false;
};

// The start of a MySQL auto-positioned dump for a replica holding `replica_set`. `source_uuid` is
// the source's server_uuid (empty: unknown, the "more GTIDs" check is skipped).
Result<MysqlGtidStart> find_mysql_gtid_start(storage::BinlogStore& store, StoredGtidState& gtids,
                                             const binlog::GtidSet& replica_set,
                                             const std::string& source_uuid, ReplicationWording wording);

// The text MySQL sends when purged transactions are missing on the replica.
std::string purged_gtids_message(const binlog::GtidSet& replica_set, const binlog::GtidSet& missing,
                                 ReplicationWording wording);

struct MariadbGtidStart {
  std::string file;
  std::uint64_t position = 4;
  // What remains to skip: per domain, the GTID the replica has reached (groups up to it are skipped).
  binlog::MariadbGtidPosition skip_until;
};

// The start of a MariaDB GTID dump for a replica at `requested`.
Result<MariadbGtidStart> find_mariadb_gtid_start(storage::BinlogStore& store, StoredGtidState& gtids,
                                                 const binlog::MariadbGtidPosition& requested,
                                                 bool ignore_duplicates);

}  // namespace brelay::relay::downstream
