// The result sets of the SHOW statements (protocol.md section 7), with the columns each flavour's
// server returns: SHOW VARIABLES / STATUS, SHOW MASTER STATUS (BINARY LOG STATUS, BINLOG STATUS),
// SHOW BINARY LOGS, SHOW REPLICAS / SLAVE HOSTS, SHOW GRANTS, SHOW WARNINGS (SHOW BINLOG EVENTS
// goes out in parts: binlog_events_stream.h).
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

// Variable_name / Value rows of `variables` that pass the statement's filter.
net::ResultSet show_variables(const ShowVariablesStatement& show,
                              const std::vector<SystemVariable>& variables);

Result<net::ResultSet> show_master_status(storage::BinlogStore& store, StoredGtidState& gtids, Flavor flavor);
Result<net::ResultSet> show_binary_logs(storage::BinlogStore& store, const SourceIdentity& source);
net::ResultSet show_replicas(const std::vector<RegisteredReplica>& replicas, Flavor flavor,
                             bool replica_names);
net::ResultSet show_grants(const std::string& user, const std::string& role, Flavor flavor);
net::ResultSet show_warnings();

}  // namespace brelay::relay::downstream
