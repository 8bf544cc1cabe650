// The result sets of the SHOW statements (protocol.md section 7), with the columns each flavour's
// server returns: SHOW VARIABLES / STATUS, SHOW MASTER STATUS (BINARY LOG STATUS, BINLOG STATUS),
// SHOW BINARY LOGS, SHOW BINLOG EVENTS, SHOW REPLICAS / SLAVE HOSTS, SHOW GRANTS, SHOW WARNINGS.
// Loop thread (they read the store).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/mysql_packets.h"
#include "relay/downstream/replica_registry.h"
#include "relay/downstream/server_variables.h"
#include "relay/downstream/sql_statement.h"
#include "relay/downstream/stored_gtid_state.h"
#include "storage/binlog_store.h"

namespace brelay::relay::downstream {

// SHOW BINLOG EVENTS without LIMIT lists at most this many events (a whole 1 GiB file would be
// millions of rows held in memory at once).
inline constexpr std::uint64_t kMaxBinlogEventRows = 100'000;

// Variable_name / Value rows of `variables` that pass the statement's filter.
net::ResultSet show_variables(const ShowVariablesStatement& show,
                              const std::vector<SystemVariable>& variables);

Result<net::ResultSet> show_master_status(storage::BinlogStore& store, StoredGtidState& gtids, Flavor flavor);
Result<net::ResultSet> show_binary_logs(storage::BinlogStore& store, const SourceIdentity& source);
// Errors: ER_ERROR_WHEN_EXECUTING_COMMAND (1220) for an unknown file or a position that is no
// event start, as MySQL words them.
Result<net::ResultSet> show_binlog_events(storage::BinlogStore& store, const ShowBinlogEventsStatement& show);
// SHOW BINLOG EVENTS's columns: the servers send them before any error of the statement.
std::vector<net::ColumnDefinition> binlog_events_columns();
net::ResultSet show_replicas(const std::vector<RegisteredReplica>& replicas, Flavor flavor,
                             bool replica_names);
net::ResultSet show_grants(const std::string& user, const std::string& role, Flavor flavor);
net::ResultSet show_warnings();

}  // namespace brelay::relay::downstream
