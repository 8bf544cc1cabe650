#include "relay/upstream/source_setup.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

#include <spdlog/spdlog.h>

#include "common/ascii.h"
#include "net/replication_commands.h"
#include "relay/binlog/format_description.h"

namespace brelay::relay {
namespace {

constexpr int kUnknownSystemVariable = 1193;

// A value for a single-quoted SQL string (the values are the relay's own, but never trust text).
std::string sql_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

bool is_on(const std::string& value) {
  const std::string v = ascii_upper(value);
  return v == "ON" || v == "1" || v == "YES" || v == "TRUE";
}

}  // namespace

std::optional<std::string> first_value(const net::QueryResult& result) {
  if (!result.has_rows || result.result_set.rows.empty() || result.result_set.rows[0].empty())
    return std::nullopt;
  return result.result_set.rows[0][0];
}

const std::vector<std::string>& SourceSetup::identity_variables() {
  static const std::vector<std::string> names = {
      "server_id",
      "server_uuid",
      "version",
      "version_comment",
      "log_bin",
      "log_bin_basename",
      "binlog_format",
      "binlog_row_image",
      "binlog_checksum",
      "binlog_annotate_row_events",
      "gtid_mode",
      "enforce_gtid_consistency",
      "gtid_domain_id",
      "gtid_strict_mode",
      "gtid_binlog_pos",
      "gtid_current_pos",
      "gtid_executed",
      "gtid_purged",
      "log_slave_updates",
      "log_replica_updates",
      "binlog_transaction_compression",
      "binlog_row_metadata",
      "max_allowed_packet",
      "character_set_server",
      "collation_server",
      "lower_case_table_names",
      "system_time_zone",
      "time_zone",
      "rpl_semi_sync_master_enabled",
      "rpl_semi_sync_source_enabled",
      "default_authentication_plugin",
  };
  return names;
}

SourceSetup::SourceSetup(net::MySqlClient& client, SourceSetupOptions options)
    : client_(client), options_(std::move(options)) {}

void SourceSetup::run(Done done) {
  done_ = std::move(done);
  const std::string& version = client_.greeting().server_version;
  const std::string_view bare = strip_compatibility_prefix(version);
  if (bare.empty() || !std::isdigit(static_cast<unsigned char>(bare[0])) ||
      binlog::split_server_version(bare)[0] < 5) {
    fail(true, make_error(
                   "the source's version '{}' is not a MySQL 5.x+ or MariaDB version the relay can replicate "
                   "from",
                   version));
    return;
  }
  result_.identity.version = version;
  result_.identity.flavor = flavor_of_version(version);
  query_clock();
}

void SourceSetup::query_clock() {
  const auto asked = std::chrono::system_clock::now();
  client_.query("SELECT UNIX_TIMESTAMP()", [this, asked](Result<net::QueryResult> reply) {
    // Errors only cost the clock offset, as for a real replica.
    if (reply) {
      if (auto value = first_value(*reply)) {
        std::int64_t source_now = 0;
        const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), source_now);
        if (ec == std::errc()) {
          const auto local =
              std::chrono::duration_cast<std::chrono::seconds>(asked.time_since_epoch()).count();
          result_.clock_offset_seconds = source_now - local;
        }
      }
    } else if (!client_.connected()) {
      fail(false, std::move(reply).error().with_context("SELECT UNIX_TIMESTAMP()"));
      return;
    }
    query_variables();
  });
}

void SourceSetup::query_variables() {
  std::string sql = "SHOW GLOBAL VARIABLES WHERE Variable_name IN (";
  bool first = true;
  for (const std::string& name : identity_variables()) {
    if (!first) sql += ", ";
    sql += sql_quote(name);
    first = false;
  }
  sql += ")";
  client_.query(sql, [this](Result<net::QueryResult> reply) {
    if (!reply) {
      fail(false,
           std::move(reply).error().with_context("reading the source's variables (SHOW GLOBAL VARIABLES)"));
      return;
    }
    SourceIdentity& identity = result_.identity;
    for (const net::TextRow& row : reply->result_set.rows) {
      if (row.size() < 2 || !row[0]) continue;
      identity.variables[ascii_lower(*row[0])] = row[1].value_or("");
    }
    const auto& vars = identity.variables;
    if (auto it = vars.find("server_id"); it != vars.end()) {
      std::uint32_t id = 0;
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), id);
      identity.server_id = id;
    }
    if (auto it = vars.find("server_uuid"); it != vars.end()) identity.server_uuid = it->second;
    if (auto it = vars.find("log_bin"); it != vars.end() && !is_on(it->second)) {
      fail(true,
           make_error("the source does not write a binary log (log_bin = {}): start it with log_bin enabled",
                      it->second));
      return;
    }
    if (identity.server_id != 0 && identity.server_id == options_.relay_server_id) {
      fail(true,
           make_error("the source's server_id is {}, the same as the relay's [source] server_id: give the "
                      "relay a server_id no server in the topology uses",
                      identity.server_id));
      return;
    }
    if (options_.gtid_dump && identity.flavor == Flavor::kMysql) {
      const auto it = vars.find("gtid_mode");
      if (it == vars.end() || ascii_upper(it->second) != "ON") {
        fail(true, make_error("[source] gtid = true needs GTID_MODE = ON on the source, which has {}",
                              it == vars.end() ? std::string("no GTID_MODE") : it->second));
        return;
      }
    }
    negotiate();
  });
}

void SourceSetup::negotiate() {
  const auto nanoseconds =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.heartbeat_period).count();
  std::string sql;
  if (result_.identity.flavor == Flavor::kMariadb) {
    sql = fmt::format(
        "SET @master_heartbeat_period= {}, @master_binlog_checksum= @@global.binlog_checksum, "
        "@mariadb_slave_capability= 4",
        nanoseconds);
  } else {
    sql = fmt::format(
        "SET @master_heartbeat_period= {0}, @source_heartbeat_period= {0}, "
        "@master_binlog_checksum= @@global.binlog_checksum, @source_binlog_checksum= "
        "@@global.binlog_checksum, "
        "@slave_uuid= {1}, @replica_uuid= {1}",
        nanoseconds, sql_quote(options_.relay_uuid));
  }
  client_.query(sql, [this](Result<net::QueryResult> reply) {
    if (!reply) {
      if (reply.error().code() == kUnknownSystemVariable) {
        // A checksum-unaware source (MySQL < 5.6.2): no checksums to negotiate.
        result_.announced = binlog::ChecksumAlgorithm::kOff;
        set_gtid_state();
        return;
      }
      fail(false,
           std::move(reply).error().with_context("setting the heartbeat period and the checksum handshake"));
      return;
    }
    read_checksum();
  });
}

void SourceSetup::read_checksum() {
  client_.query("SELECT @master_binlog_checksum", [this](Result<net::QueryResult> reply) {
    if (!reply) {
      fail(false, std::move(reply).error().with_context("SELECT @master_binlog_checksum"));
      return;
    }
    const auto value = first_value(*reply);
    if (!reply->has_rows || reply->result_set.rows.empty()) {
      fail(true, make_error("the source answered SELECT @master_binlog_checksum without a row"));
      return;
    }
    const std::string algorithm = value ? ascii_upper(*value) : std::string("NONE");
    if (algorithm == "CRC32") {
      result_.announced = binlog::ChecksumAlgorithm::kCrc32;
    } else if (algorithm == "NONE") {
      result_.announced = binlog::ChecksumAlgorithm::kOff;
    } else {
      fail(true,
           make_error("the source's binlog_checksum is '{}'; the relay knows CRC32 and NONE", algorithm));
      return;
    }
    result_.identity.checksum = result_.announced;
    set_gtid_state();
  });
}

void SourceSetup::set_gtid_state() {
  if (!options_.gtid_dump || result_.identity.flavor != Flavor::kMariadb) {
    register_replica();
    return;
  }
  const std::string sql = fmt::format(
      "SET @slave_connect_state= {}, @slave_gtid_strict_mode= 0, @slave_gtid_ignore_duplicates= 0",
      sql_quote(options_.mariadb_connect_state));
  client_.query(sql, [this](Result<net::QueryResult> reply) {
    if (!reply) {
      fail(false, std::move(reply).error().with_context("setting @slave_connect_state"));
      return;
    }
    register_replica();
  });
}

void SourceSetup::register_replica() {
  net::RegisterReplica command;
  command.server_id = options_.relay_server_id;
  command.host = options_.report_host;
  client_.command(net::encode_register_replica(command), [this](Result<net::OkPacket> reply) {
    if (!reply) {
      fail(false,
           std::move(reply).error().with_context(
               "registering with the source (COM_REGISTER_SLAVE; the relay's account needs the REPLICATION "
               "SLAVE privilege)"));
      return;
    }
    enable_semi_sync();
  });
}

void SourceSetup::enable_semi_sync() {
  if (!options_.semi_sync) {
    query_table_keys();
    return;
  }
  const auto& vars = result_.identity.variables;
  auto enabled = [&](const char* name) {
    const auto it = vars.find(name);
    return it != vars.end() && is_on(it->second);
  };
  if (!enabled("rpl_semi_sync_master_enabled") && !enabled("rpl_semi_sync_source_enabled")) {
    result_.semi_sync = false;
    query_table_keys();
    return;
  }
  const std::string sql = result_.identity.flavor == Flavor::kMariadb
                              ? "SET @rpl_semi_sync_slave= 1"
                              : "SET @rpl_semi_sync_slave= 1, @rpl_semi_sync_replica= 1";
  client_.query(sql, [this](Result<net::QueryResult> reply) {
    if (!reply) {
      fail(false, std::move(reply).error().with_context("enabling semi-sync (SET @rpl_semi_sync_slave= 1)"));
      return;
    }
    result_.semi_sync = true;
    query_table_keys();
  });
}

void SourceSetup::query_table_keys() {
  if (!options_.table_keys) {
    finish(std::move(result_));
    return;
  }
  const std::string sql = fmt::format(
      "SELECT t.TABLE_SCHEMA, t.TABLE_NAME, c.CONSTRAINT_NAME IS NOT NULL FROM information_schema.TABLES t "
      "LEFT JOIN information_schema.TABLE_CONSTRAINTS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND "
      "c.TABLE_NAME = t.TABLE_NAME AND c.CONSTRAINT_TYPE = 'PRIMARY KEY' WHERE t.TABLE_TYPE = 'BASE TABLE' "
      "AND t.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') LIMIT {}",
      SourceSetupResult::kMaxTableKeys);
  client_.query(sql, [this](Result<net::QueryResult> reply) {
    if (!reply) {
      if (!client_.connected()) {
        fail(false, std::move(reply).error().with_context("reading the tables' primary keys"));
        return;
      }
      spdlog::warn(
          "upstream: the source's tables could not be read from information_schema ({}): the GIPK "
          "hazard guard treats tables it has not seen created as tables without a primary key",
          reply.error().message());
      finish(std::move(result_));
      return;
    }
    std::vector<SourceTableKey> keys;
    for (const net::TextRow& row : reply->result_set.rows) {
      if (row.size() < 3 || !row[0] || !row[1]) continue;
      keys.push_back({*row[0], *row[1], row[2].value_or("0") == "1"});
    }
    result_.table_keys = std::move(keys);
    finish(std::move(result_));
  });
}

void SourceSetup::fail(bool fatal, Error error) {
  fatal_ = fatal;
  finish(std::move(error));
}

void SourceSetup::finish(Result<SourceSetupResult> result) {
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(result));
}

}  // namespace brelay::relay
