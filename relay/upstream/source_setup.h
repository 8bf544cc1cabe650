// SourceSetup: what the relay does on a fresh, logged-in connection to the source before it asks
// for the binlog, the way a real replica's IO thread does it for the source's flavour
// (protocol.md section 1; MariaDB sql/slave.cc get_master_version_and_clock, request_dump):
//
//  1. the greeting's version: it must start with a digit and be 5 or later; MariaDB or MySQL;
//  2. SELECT UNIX_TIMESTAMP() (the source's clock, for seconds-behind);
//  3. SHOW GLOBAL VARIABLES for the source's identity and the replication variables replicas ask
//     the relay about (one query; variables a version lacks are simply absent); the source must
//     write a binlog (log_bin) and must not have the relay's [source] server_id; a MySQL source
//     needs GTID_MODE = ON for a GTID dump;
//  4. SET the heartbeat period and the checksum handshake (@master_binlog_checksum =
//     @@global.binlog_checksum), plus @mariadb_slave_capability = 4 (MariaDB) or
//     @slave_uuid/@replica_uuid (MySQL), then SELECT @master_binlog_checksum: CRC32 or NONE;
//  5. MariaDB GTID dump: SET @slave_connect_state, @slave_gtid_strict_mode = 0,
//     @slave_gtid_ignore_duplicates = 0;
//  6. COM_REGISTER_SLAVE with the relay's server_id;
//  7. semi-sync, when wanted and the source has it enabled: SET @rpl_semi_sync_slave = 1;
//  8. with `table_keys`: which tables have a primary key (information_schema, one query; a failure
//     only leaves them unknown), for the GIPK hazard guard (gipk_hazard_tracker.h).
// Then the caller sends the dump command. Errors say which step failed; fatal() tells whether
// retrying can help (a refused configuration) or not.
//
// Borrows the client, which must outlive it; the callback runs once, on the loop thread, and may
// destroy the setup and the client. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/result.h"
#include "net/mysql_client.h"
#include "relay/binlog/checksum.h"
#include "relay/core/source_identity.h"

namespace brelay::relay {

struct SourceSetupOptions {
  std::uint32_t relay_server_id = 0;  // [source] server_id
  std::string relay_uuid;             // MySQL @slave_uuid / @replica_uuid
  std::string report_host;            // COM_REGISTER_SLAVE host (SHOW SLAVE HOSTS on the source)
  std::chrono::milliseconds heartbeat_period{1000};
  bool semi_sync = false;             // [source] semi_sync
  bool gtid_dump = false;             // the dump will be by GTID
  std::string mariadb_connect_state;  // MariaDB GTID dump: @slave_connect_state
  bool table_keys = false;            // step 8
};

// A base table of the source and whether it has a primary key (step 8).
struct SourceTableKey {
  std::string schema;
  std::string table;
  bool primary_key = false;
};

struct SourceSetupResult {
  SourceIdentity identity;
  binlog::ChecksumAlgorithm announced = binlog::ChecksumAlgorithm::kOff;  // @master_binlog_checksum
  bool semi_sync = false;  // the source will ask for acknowledgements
  // The source's clock minus the relay's, in seconds, as measured at connect.
  std::int64_t clock_offset_seconds = 0;
  // Step 8's answer (nullopt: not asked, or the query failed).
  std::optional<std::vector<SourceTableKey>> table_keys;
  static constexpr std::size_t kMaxTableKeys = 100'000;
};

class SourceSetup {
 public:
  using Done = std::function<void(Result<SourceSetupResult>)>;

  SourceSetup(net::MySqlClient& client, SourceSetupOptions options);
  SourceSetup(const SourceSetup&) = delete;
  SourceSetup& operator=(const SourceSetup&) = delete;

  // Runs the steps on the connected client; `done` gets the outcome.
  void run(Done done);
  // After an error: true when the source's configuration refuses the relay (retrying cannot help
  // until an operator changes something), false for failures worth retrying.
  bool fatal() const { return fatal_; }

  // The variables SHOW GLOBAL VARIABLES asks for (lower-case).
  static const std::vector<std::string>& identity_variables();

 private:
  void query_clock();
  void query_variables();
  void negotiate();
  void read_checksum();
  void set_gtid_state();
  void register_replica();
  void enable_semi_sync();
  void query_table_keys();
  void finish(Result<SourceSetupResult> result);
  void fail(bool fatal, Error error);

  net::MySqlClient& client_;  // not owned
  SourceSetupOptions options_;
  Done done_;
  SourceSetupResult result_;
  bool fatal_ = false;
};

// The first column of a query's first row (nullopt: no row, or NULL): what a one-value
// `SELECT @@...` answers.
std::optional<std::string> first_value(const net::QueryResult& result);

}  // namespace brelay::relay
