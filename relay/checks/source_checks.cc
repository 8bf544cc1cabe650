#include "relay/checks/source_checks.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/ascii.h"
#include "relay/binlog/format_description.h"
#include "relay/checks/grants.h"
#include "relay/checks/local_checks.h"

namespace brelay::relay {
namespace {

constexpr const char* kVariablesQuery =
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', "
    "'server_id', 'server_uuid', 'gtid_mode', 'enforce_gtid_consistency', 'gtid_domain_id', "
    "'gtid_strict_mode', 'gtid_binlog_pos', 'expire_logs_days', 'binlog_expire_logs_seconds', "
    "'binlog_checksum', 'lower_case_table_names', 'rpl_semi_sync_master_enabled', "
    "'rpl_semi_sync_source_enabled')";

constexpr const char* kUserSchemas = "('mysql', 'sys', 'information_schema', 'performance_schema')";

constexpr std::size_t kTablesNamed = 20;  // tables named per line; the rest are counted

bool is_on(const std::optional<std::string>& value) {
  return value && (ascii_upper(*value) == "ON" || *value == "1");
}

std::optional<std::uint64_t> to_number(const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || end != value->data() + value->size()) return std::nullopt;
  return n;
}

std::string value_or(const std::optional<std::string>& value, std::string_view fallback) {
  return value ? *value : std::string(fallback);
}

Result<std::vector<TableName>> read_tables(net::BlockingClient& client, const std::string& sql) {
  BRELAY_ASSIGN_OR_RETURN(net::ResultSet rows, client.query_rows(sql));
  std::vector<TableName> tables;
  for (const net::TextRow& row : rows.rows) {
    if (row.size() < 3) continue;
    tables.push_back({row[0].value_or(""), row[1].value_or(""), row[2].value_or("")});
  }
  return tables;
}

Result<std::vector<std::string>> read_grants(net::BlockingClient& client) {
  BRELAY_ASSIGN_OR_RETURN(net::ResultSet rows, client.query_rows("SHOW GRANTS"));
  std::vector<std::string> grants;
  for (const net::TextRow& row : rows.rows) {
    if (!row.empty() && row[0]) grants.push_back(*row[0]);
  }
  return grants;
}

// "`a`.`t1` (MyISAM), `a`.`t2` (Aria) and 3 more".
std::string name_tables(const std::vector<TableName>& tables, bool with_engine) {
  std::string out;
  for (std::size_t i = 0; i < tables.size() && i < kTablesNamed; ++i) {
    if (i > 0) out += ", ";
    out += tables[i].qualified();
    if (with_engine)
      out += fmt::format(" ({})", tables[i].engine.empty() ? "unknown engine" : tables[i].engine);
  }
  if (tables.size() > kTablesNamed) out += fmt::format(" and {} more", tables.size() - kTablesNamed);
  return out;
}

void check_version(const SourceFacts& facts, Checklist& checklist) {
  const auto [major, minor, patch] = binlog::split_server_version(facts.version);
  if (facts.is_mariadb()) {
    if (major < 10) {
      checklist.fail("version", fmt::format("MariaDB {}", facts.version),
                     "upgrade the source to MariaDB 10.x or later");
      return;
    }
    checklist.ok("version",
                 fmt::format("MariaDB {}: feeds MariaDB replicas and binlog readers (MySQL replicas, "
                             "Azure Database for MySQL among them, do not replicate from MariaDB)",
                             facts.version));
    return;
  }
  if (major < 5 || (major == 5 && minor < 7)) {
    checklist.fail("version", fmt::format("MySQL {}", facts.version),
                   "Azure Data-in replication needs a MySQL 5.7 or later source: upgrade it");
    return;
  }
  checklist.ok("version", fmt::format("MySQL {} (at least 5.7; keep source and replica on the same major "
                                      "version)",
                                      facts.version));
  (void)patch;
}

void check_binary_log(const SourceFacts& facts, Checklist& checklist) {
  if (is_on(facts.variable("log_bin"))) {
    checklist.ok("log_bin", "ON");
  } else {
    checklist.fail(
        "log_bin",
        fmt::format("{}: the source writes no binary log", value_or(facts.variable("log_bin"), "absent")),
        "add log-bin=mysql-bin (and a server_id) to the [mysqld] section of my.cnf and restart the source");
  }

  const auto format = facts.variable("binlog_format");
  if (format && ascii_upper(*format) == "ROW") {
    checklist.ok("binlog_format", "ROW");
  } else {
    checklist.warn(
        "binlog_format", fmt::format("{} (not ROW)", value_or(format, "absent")),
        "SET GLOBAL binlog_format = 'ROW' and binlog_format=ROW in my.cnf: row events replicate the "
        "same data on every replica (statements may not) and CDC readers need them");
  }

  if (const auto image = facts.variable("binlog_row_image")) {
    if (ascii_upper(*image) == "FULL") {
      checklist.ok("binlog_row_image", "FULL");
    } else {
      checklist.warn(
          "binlog_row_image", fmt::format("{} (not FULL)", *image),
          "SET GLOBAL binlog_row_image = 'FULL' (and in my.cnf) if CDC readers (Debezium, Maxwell, "
          "canal) consume the relay: they need whole rows");
    }
  }
}

void check_server_id(const SourceFacts& facts, const Config& config, Checklist& checklist) {
  const auto id = to_number(facts.variable("server_id"));
  if (!id || *id == 0) {
    checklist.fail("server_id",
                   fmt::format("{}: the source refuses replicas without a server_id",
                               value_or(facts.variable("server_id"), "absent")),
                   "set server_id to a unique non-zero number in my.cnf and restart the source");
  } else if (*id == config.source.server_id) {
    checklist.fail(
        "server_id",
        fmt::format("{} equals the relay's [source] server_id: a replica must differ from its source", *id),
        "give [source] server_id a value no server of the replication topology uses");
  } else if (*id == config.server.server_id) {
    checklist.warn("server_id", fmt::format("{} equals the relay's own [server] server_id", *id),
                   "give [server] server_id its own value: replicas see it as their source's id");
  } else {
    checklist.ok("server_id", fmt::format("{} (the relay registers as {} and answers as {})", *id,
                                          config.source.server_id, config.server.server_id));
  }
}

void check_gtids(const SourceFacts& facts, const Config& config, Checklist& checklist) {
  if (facts.is_mariadb()) {
    const std::string position = value_or(facts.variable("gtid_binlog_pos"), "");
    const std::string summary =
        fmt::format("MariaDB GTIDs: gtid_domain_id = {}, gtid_strict_mode = {}, gtid_binlog_pos = '{}'",
                    value_or(facts.variable("gtid_domain_id"), "?"),
                    value_or(facts.variable("gtid_strict_mode"), "?"), position);
    if (!config.source.gtid) {
      checklist.ok("gtid", summary + " ([source] gtid = false: the relay positions by file and position)");
    } else if (!is_on(facts.variable("gtid_strict_mode"))) {
      checklist.warn("gtid", summary,
                     "SET GLOBAL gtid_strict_mode = ON (and in my.cnf) for GTID positioning: it keeps each "
                     "domain's sequence numbers increasing, which slave_pos positioning relies on");
    } else {
      checklist.ok("gtid", summary);
    }
    return;
  }
  const std::string mode = value_or(facts.variable("gtid_mode"), "OFF");
  const std::string consistency = value_or(facts.variable("enforce_gtid_consistency"), "OFF");
  const std::string summary = fmt::format("gtid_mode = {}, enforce_gtid_consistency = {}", mode, consistency);
  if (!config.source.gtid) {
    checklist.ok("gtid", summary + " ([source] gtid = false: the relay positions by file and position)");
  } else if (ascii_upper(mode) != "ON" || !is_on(facts.variable("enforce_gtid_consistency"))) {
    checklist.fail("gtid", summary + ", but [source] gtid = true needs both ON",
                   "SET GLOBAL enforce_gtid_consistency = ON, then step gtid_mode through OFF_PERMISSIVE and "
                   "ON_PERMISSIVE to ON (and set both in my.cnf), or set [source] gtid = false");
  } else {
    checklist.ok("gtid", summary);
  }
}

void check_privileges(const SourceFacts& facts, const Config& config, Checklist& checklist) {
  const GlobalPrivileges privileges = parse_global_privileges(facts.grants);
  const bool slave = privileges.has("REPLICATION SLAVE") || privileges.has("REPLICATION REPLICA");
  const bool client = privileges.has("REPLICATION CLIENT") || privileges.has("BINLOG MONITOR") ||
                      (!facts.is_mariadb() && privileges.has("SUPER"));
  const std::string client_name = facts.is_mariadb() ? "BINLOG MONITOR" : "REPLICATION CLIENT";
  std::vector<std::string> missing;
  if (!slave) missing.emplace_back("REPLICATION SLAVE");
  if (!client) missing.emplace_back(client_name);
  if (missing.empty()) {
    checklist.ok("privileges",
                 fmt::format("{} has REPLICATION SLAVE and {}", config.source.user, client_name));
    return;
  }
  std::string finding = fmt::format("{} lacks {} on *.*", config.source.user, fmt::join(missing, " and "));
  if (!privileges.roles.empty()) {
    finding += fmt::format(" (roles granted, not inspected: {})", fmt::join(privileges.roles, ", "));
  }
  checklist.fail(
      "privileges", finding,
      fmt::format("GRANT {} ON *.* TO '{}'@'%': REPLICATION SLAVE lets the relay pull the binlog, {} "
                  "lets it read the source's coordinates (SHOW MASTER STATUS, SHOW BINARY LOGS)",
                  fmt::join(missing, ", "), config.source.user, client_name));
}

// Accounts with schema = true have their schema queries forwarded with the [source] account, which
// sees in information_schema only the tables it may SELECT from.
void check_schema_forwarding(const SourceFacts& facts, const Config& config, Checklist& checklist) {
  std::vector<std::string> readers;
  for (const UserConfig& user : config.users)
    if (user.schema) readers.push_back(user.name);
  if (readers.empty()) return;
  const std::string who = fmt::format("[[users]] with schema = true ({})", fmt::join(readers, ", "));
  if (parse_global_privileges(facts.grants).has("SELECT")) {
    checklist.ok(
        "schema forwarding",
        fmt::format("{} has SELECT on *.*: the schema queries of {} are answered", config.source.user, who));
    return;
  }
  const std::string advice = fmt::format(
      "GRANT SELECT ON *.* TO '{}'@'%' (or SELECT on each replicated schema): the relay forwards the schema "
      "queries of CDC readers with the [source] account, and information_schema shows only the tables it may "
      "read",
      config.source.user);
  const bool some = std::any_of(facts.grants.begin(), facts.grants.end(), [](const std::string& line) {
    return line.find("SELECT") != std::string::npos && line.find("ON *.*") == std::string::npos;
  });
  if (some) {
    checklist.warn("schema forwarding",
                   fmt::format("{} has SELECT on some schemas only: {} see the tables of those alone",
                               config.source.user, who),
                   advice);
    return;
  }
  checklist.fail("schema forwarding",
                 fmt::format("{} has no SELECT: {} cannot learn the columns of the replicated tables",
                             config.source.user, who),
                 advice);
}

void check_tables(const SourceFacts& facts, Checklist& checklist) {
  const std::string incomplete_advice =
      "run check with --inspect-user and --inspect-password-file of an account with global SELECT to see "
      "every "
      "table";
  if (!facts.non_innodb_tables) {
    checklist.warn("storage engines", fmt::format("could not list the tables: {}", facts.tables_problem),
                   incomplete_advice);
  } else if (!facts.non_innodb_tables->empty()) {
    checklist.fail(
        "storage engines",
        fmt::format("{} table(s) not InnoDB: {}", facts.non_innodb_tables->size(),
                    name_tables(*facts.non_innodb_tables, true)),
        "ALTER TABLE ... ENGINE = InnoDB for each: Azure Database for MySQL supports InnoDB only, and "
        "changes to non-transactional tables cannot be replicated safely");
  } else if (!facts.tables_complete) {
    checklist.warn("storage engines", "no non-InnoDB table among those the account can see",
                   incomplete_advice);
  } else {
    checklist.ok("storage engines", "every user table is InnoDB");
  }

  if (!facts.tables_without_primary_key) {
    checklist.warn("primary keys", fmt::format("could not list the tables: {}", facts.tables_problem),
                   incomplete_advice);
  } else if (!facts.tables_without_primary_key->empty()) {
    checklist.warn(
        "primary keys",
        fmt::format("{} table(s) without a primary key: {}", facts.tables_without_primary_key->size(),
                    name_tables(*facts.tables_without_primary_key, false)),
        "add a primary key to each: without one a replica applies every row change with a table scan (slow "
        "replication), and a MySQL 8.0 replica with sql_generate_invisible_primary_key = ON (Azure's "
        "default) gives "
        "such tables an invisible my_row_id key the source does not have (the Generated Invisible Primary "
        "Key "
        "hazards: create the tables on the replica first, or turn GIPK off there)");
  } else if (!facts.tables_complete) {
    checklist.warn("primary keys", "no table without a primary key among those the account can see",
                   incomplete_advice);
  } else {
    checklist.ok("primary keys", "every user table has a primary key");
  }
}

void check_expiry(const SourceFacts& facts, const Config& config, Checklist& checklist) {
  const std::int64_t expiry = source_binlog_expiry_seconds(facts);
  const std::int64_t retention =
      std::chrono::duration_cast<std::chrono::seconds>(config.storage.retention_time).count();
  const std::string relay_keeps =
      retention == 0 ? "the relay keeps binlogs regardless of age (retention_time = 0)"
                     : fmt::format("the relay keeps them {} (retention_time)", format_seconds(retention));
  if (expiry == 0) {
    checklist.ok("binlog expiry",
                 fmt::format("the source keeps binlogs until they are purged by hand; {}", relay_keeps));
  } else if (expiry < 86400) {
    checklist.warn(
        "binlog expiry",
        fmt::format("the source purges binlogs after {}: a relay stopped or behind for longer loses "
                    "events it never pulled; {}",
                    format_seconds(expiry), relay_keeps),
        "raise binlog_expire_logs_seconds (expire_logs_days) on the source to a day or more, and "
        "alert on the relay's seconds behind the source");
  } else if (retention != 0 && retention < expiry) {
    checklist.warn(
        "binlog expiry",
        fmt::format("the source keeps binlogs {}, longer than the relay ({})", format_seconds(expiry),
                    format_seconds(retention)),
        fmt::format("raise [storage] retention_time to at least {} so that the relay adds a retention "
                    "buffer for lagging or new replicas",
                    format_seconds(expiry)));
  } else {
    checklist.ok("binlog expiry",
                 fmt::format("the source keeps binlogs {}; {}", format_seconds(expiry), relay_keeps));
  }
}

void check_checksum(const SourceFacts& facts, Checklist& checklist) {
  const auto checksum = facts.variable("binlog_checksum");
  if (!checksum) return;
  if (ascii_upper(*checksum) == "CRC32") {
    checklist.ok("binlog_checksum", "CRC32 (every event carries a checksum that replicas verify)");
  } else {
    checklist.warn(
        "binlog_checksum", fmt::format("{}: events carry no checksum", *checksum),
        "SET GLOBAL binlog_checksum = 'CRC32' (and in my.cnf): without it neither the relay nor the "
        "replicas can detect a damaged event");
  }
}

void check_lower_case_table_names(const SourceFacts& facts, Checklist& checklist) {
  const auto value = facts.variable("lower_case_table_names");
  if (!value) return;
  if (*value == "1") {
    checklist.ok("lower_case_table_names", "1 (as on Azure Database for MySQL flexible server)");
  } else {
    checklist.warn(
        "lower_case_table_names",
        fmt::format("{}: Azure Database for MySQL flexible server runs with 1, and Data-in replication "
                    "needs the same value on source and replica",
                    *value),
        "set lower_case_table_names = 1 on the source (MySQL 8.0: only when initializing the data "
        "directory), or use a replica with the source's value");
  }
}

void check_semi_sync(const SourceFacts& facts, const Config& config, Checklist& checklist) {
  if (!config.source.semi_sync) return;
  if (is_on(facts.variable("rpl_semi_sync_master_enabled")) ||
      is_on(facts.variable("rpl_semi_sync_source_enabled"))) {
    checklist.ok("semi_sync",
                 "the source runs semi-synchronous replication; the relay acknowledges durable events");
  } else {
    checklist.warn(
        "semi_sync", "[source] semi_sync = true, but the source's semi-sync is not enabled",
        facts.is_mariadb()
            ? "SET GLOBAL rpl_semi_sync_master_enabled = ON (and in my.cnf), or set [source] semi_sync = "
              "false"
            : "INSTALL PLUGIN rpl_semi_sync_source SONAME 'semisync_source.so'; SET GLOBAL "
              "rpl_semi_sync_source_enabled = ON (and in my.cnf), or set [source] semi_sync = false");
  }
}

}  // namespace

bool SourceFacts::is_mariadb() const {
  return ascii_lower(version).find("mariadb") != std::string::npos;
}

std::optional<std::string> SourceFacts::variable(const std::string& name) const {
  auto it = variables.find(name);
  if (it == variables.end()) return std::nullopt;
  return it->second;
}

std::int64_t source_binlog_expiry_seconds(const SourceFacts& facts) {
  if (const auto seconds = to_number(facts.variable("binlog_expire_logs_seconds")); seconds && *seconds > 0) {
    return static_cast<std::int64_t>(*seconds);
  }
  if (const auto days = facts.variable("expire_logs_days")) {
    const double value = std::strtod(days->c_str(), nullptr);
    if (value > 0) return static_cast<std::int64_t>(value * 86400);
  }
  return 0;
}

Result<SourceFacts> gather_source_facts(net::BlockingClient& client, net::BlockingClient* inspector) {
  SourceFacts facts;
  facts.tls = client.async().tls();
  BRELAY_ASSIGN_OR_RETURN(net::ResultSet version, client.query_rows("SELECT VERSION()"));
  if (version.rows.empty() || version.rows[0].empty() || !version.rows[0][0]) {
    return make_error("SELECT VERSION() returned no row");
  }
  facts.version = *version.rows[0][0];
  BRELAY_ASSIGN_OR_RETURN(net::ResultSet variables, client.query_rows(kVariablesQuery));
  for (const net::TextRow& row : variables.rows) {
    if (row.size() >= 2 && row[0]) facts.variables[ascii_lower(*row[0])] = row[1].value_or("");
  }
  BRELAY_ASSIGN_OR_RETURN(facts.grants, read_grants(client));

  net::BlockingClient& tables_client = inspector != nullptr ? *inspector : client;
  GlobalPrivileges readers_privileges = parse_global_privileges(facts.grants);
  if (inspector != nullptr) {
    auto grants = read_grants(*inspector);
    readers_privileges = grants ? parse_global_privileges(*grants) : GlobalPrivileges{};
  }
  facts.tables_complete = readers_privileges.has("SELECT");
  auto non_innodb = read_tables(
      tables_client,
      fmt::format(
          "SELECT TABLE_SCHEMA, TABLE_NAME, IFNULL(ENGINE, '') FROM information_schema.TABLES WHERE "
          "TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN {} AND (ENGINE IS NULL OR ENGINE <> 'InnoDB') "
          "ORDER BY 1, 2",
          kUserSchemas));
  auto without_key = read_tables(
      tables_client,
      fmt::format(
          "SELECT t.TABLE_SCHEMA, t.TABLE_NAME, IFNULL(t.ENGINE, '') FROM information_schema.TABLES t "
          "LEFT JOIN information_schema.TABLE_CONSTRAINTS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND "
          "c.TABLE_NAME = t.TABLE_NAME AND c.CONSTRAINT_TYPE = 'PRIMARY KEY' WHERE t.TABLE_TYPE = 'BASE "
          "TABLE' AND t.TABLE_SCHEMA NOT IN {} AND c.CONSTRAINT_NAME IS NULL ORDER BY 1, 2",
          kUserSchemas));
  if (non_innodb && without_key) {
    facts.non_innodb_tables = std::move(non_innodb).value();
    facts.tables_without_primary_key = std::move(without_key).value();
  } else {
    facts.tables_problem = (!non_innodb ? non_innodb.error() : without_key.error()).message();
  }
  return facts;
}

void check_source(const SourceFacts& facts, const Config& config, Checklist& checklist) {
  check_version(facts, checklist);
  check_binary_log(facts, checklist);
  check_server_id(facts, config, checklist);
  check_gtids(facts, config, checklist);
  check_privileges(facts, config, checklist);
  check_schema_forwarding(facts, config, checklist);
  check_tables(facts, checklist);
  check_expiry(facts, config, checklist);
  check_checksum(facts, checklist);
  check_lower_case_table_names(facts, checklist);
  check_semi_sync(facts, config, checklist);
}

}  // namespace brelay::relay
