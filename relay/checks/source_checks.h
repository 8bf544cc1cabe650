// The source half of `binlog-relay check`: what the relay and the Azure Data-in replication guide
// require of the server the relay pulls from. gather_source_facts() asks the server (a few SHOW /
// SELECT statements over net/'s BlockingClient); check_source() turns the facts into checklist
// lines and is pure, so every verdict is unit-tested without a server.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/blocking_client.h"
#include "relay/checks/preflight.h"
#include "relay/core/config.h"

namespace brelay::relay {

struct TableName {
  std::string schema;
  std::string name;
  std::string engine;  // for the storage-engine check
  std::string qualified() const { return "`" + schema + "`.`" + name + "`"; }
};

struct SourceFacts {
  std::string endpoint;  // "host:port as user"
  bool tls = false;      // the check's connection used TLS
  std::string version;   // SELECT VERSION()
  // Global variables by lower-case name (only those the checks read).
  std::map<std::string, std::string> variables;
  std::vector<std::string> grants;  // SHOW GRANTS of the replication account
  // User tables (outside mysql, sys, information_schema, performance_schema) that are not InnoDB,
  // and those without a primary key; nullopt when they could not be read (tables_problem says why).
  std::optional<std::vector<TableName>> non_innodb_tables;
  std::optional<std::vector<TableName>> tables_without_primary_key;
  std::string tables_problem;
  // The tables were read by an account that sees every table (global SELECT or ALL), so the
  // lists are complete.
  bool tables_complete = false;

  bool is_mariadb() const;
  // The value of a variable, or nullopt when the server has no such variable.
  std::optional<std::string> variable(const std::string& name) const;
};

// Asks the source. `inspector` (optional) reads the table lists instead of `client`, for when the
// replication account cannot see the tables. Errors: a statement every supported server answers
// failed (the message names it).
Result<SourceFacts> gather_source_facts(net::BlockingClient& client, net::BlockingClient* inspector);

// The source's lines of the checklist: version, log_bin, binlog_format, binlog_row_image,
// server_id, GTIDs, privileges, storage engines, primary keys, binlog expiry against the relay's
// retention, binlog_checksum, lower_case_table_names, and semi-sync when configured.
void check_source(const SourceFacts& facts, const Config& config, Checklist& checklist);

// How long the source keeps binlogs, in seconds (0: forever), from binlog_expire_logs_seconds and
// expire_logs_days as the server weighs them.
std::int64_t source_binlog_expiry_seconds(const SourceFacts& facts);

}  // namespace brelay::relay
