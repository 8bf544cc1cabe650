#include "relay/downstream/server_variables.h"

#include <unistd.h>

#include <algorithm>
#include <array>

#include "relay/binlog/format_description.h"
#include "relay/core/source_identity.h"
#include "relay/core/stored_file_walk.h"
#include "relay/downstream/sql_tokenizer.h"

namespace brelay::relay::downstream {
namespace {

enum class Only { kAny, kMysql, kMariadb };

// How a variable gets its value.
enum class Origin {
  kFixed,   // the default below, always
  kSource,  // the source's variable when the upstream recorded it, else the default below
  kComputed,
};

}  // namespace

struct ServerVariables::Entry {
  std::string_view name;
  SystemVariable::Type type;
  Only only;
  Origin origin;
  std::string_view fallback;
};

namespace {

using Type = SystemVariable::Type;
using EntryRow = std::tuple<std::string_view, Type, Only, Origin, std::string_view>;

// Sorted by name.
constexpr std::array kEntries = {
    EntryRow{"auto_increment_increment", Type::kInteger, Only::kAny, Origin::kFixed, "1"},
    EntryRow{"auto_increment_offset", Type::kInteger, Only::kAny, Origin::kFixed, "1"},
    EntryRow{"autocommit", Type::kBoolean, Only::kAny, Origin::kFixed, "ON"},
    EntryRow{"binlog_annotate_row_events", Type::kBoolean, Only::kMariadb, Origin::kSource, "ON"},
    EntryRow{"binlog_checksum", Type::kText, Only::kAny, Origin::kComputed, ""},
    EntryRow{"binlog_expire_logs_seconds", Type::kInteger, Only::kAny, Origin::kComputed, ""},
    EntryRow{"binlog_format", Type::kText, Only::kAny, Origin::kSource, "ROW"},
    EntryRow{"binlog_row_image", Type::kText, Only::kAny, Origin::kSource, "FULL"},
    EntryRow{"binlog_row_metadata", Type::kText, Only::kAny, Origin::kSource, "MINIMAL"},
    EntryRow{"binlog_transaction_compression", Type::kBoolean, Only::kMysql, Origin::kSource, "OFF"},
    EntryRow{"character_set_client", Type::kText, Only::kAny, Origin::kFixed, "utf8mb4"},
    EntryRow{"character_set_connection", Type::kText, Only::kAny, Origin::kFixed, "utf8mb4"},
    EntryRow{"character_set_database", Type::kText, Only::kAny, Origin::kFixed, "utf8mb4"},
    EntryRow{"character_set_results", Type::kText, Only::kAny, Origin::kFixed, "utf8mb4"},
    EntryRow{"character_set_server", Type::kText, Only::kAny, Origin::kFixed, "utf8mb4"},
    EntryRow{"character_set_system", Type::kText, Only::kAny, Origin::kFixed, "utf8mb3"},
    EntryRow{"collation_connection", Type::kText, Only::kAny, Origin::kFixed, "utf8mb4_general_ci"},
    EntryRow{"collation_database", Type::kText, Only::kAny, Origin::kFixed, "utf8mb4_general_ci"},
    EntryRow{"collation_server", Type::kText, Only::kAny, Origin::kFixed, "utf8mb4_general_ci"},
    EntryRow{"enforce_gtid_consistency", Type::kText, Only::kMysql, Origin::kComputed, ""},
    EntryRow{"expire_logs_days", Type::kInteger, Only::kAny, Origin::kComputed, ""},
    EntryRow{"gtid_binlog_pos", Type::kText, Only::kMariadb, Origin::kComputed, ""},
    EntryRow{"gtid_binlog_state", Type::kText, Only::kMariadb, Origin::kComputed, ""},
    EntryRow{"gtid_current_pos", Type::kText, Only::kMariadb, Origin::kComputed, ""},
    EntryRow{"gtid_domain_id", Type::kInteger, Only::kMariadb, Origin::kComputed, ""},
    EntryRow{"gtid_executed", Type::kText, Only::kMysql, Origin::kComputed, ""},
    EntryRow{"gtid_ignore_duplicates", Type::kBoolean, Only::kMariadb, Origin::kFixed, "OFF"},
    EntryRow{"gtid_mode", Type::kText, Only::kMysql, Origin::kComputed, ""},
    EntryRow{"gtid_purged", Type::kText, Only::kMysql, Origin::kComputed, ""},
    EntryRow{"gtid_slave_pos", Type::kText, Only::kMariadb, Origin::kFixed, ""},
    EntryRow{"gtid_strict_mode", Type::kBoolean, Only::kMariadb, Origin::kSource, "OFF"},
    EntryRow{"have_ssl", Type::kText, Only::kAny, Origin::kComputed, ""},
    EntryRow{"hostname", Type::kText, Only::kAny, Origin::kComputed, ""},
    EntryRow{"init_connect", Type::kText, Only::kAny, Origin::kFixed, ""},
    EntryRow{"interactive_timeout", Type::kInteger, Only::kAny, Origin::kFixed, "28800"},
    EntryRow{"license", Type::kText, Only::kAny, Origin::kFixed, "GPL"},
    EntryRow{"log_bin", Type::kBoolean, Only::kAny, Origin::kFixed, "ON"},
    EntryRow{"log_replica_updates", Type::kBoolean, Only::kMysql, Origin::kFixed, "ON"},
    EntryRow{"log_slave_updates", Type::kBoolean, Only::kAny, Origin::kFixed, "ON"},
    EntryRow{"lower_case_table_names", Type::kInteger, Only::kAny, Origin::kFixed, "0"},
    EntryRow{"max_allowed_packet", Type::kInteger, Only::kAny, Origin::kComputed, ""},
    EntryRow{"max_binlog_size", Type::kInteger, Only::kAny, Origin::kSource, "1073741824"},
    EntryRow{"net_buffer_length", Type::kInteger, Only::kAny, Origin::kFixed, "16384"},
    EntryRow{"net_read_timeout", Type::kInteger, Only::kAny, Origin::kFixed, "30"},
    EntryRow{"net_write_timeout", Type::kInteger, Only::kAny, Origin::kComputed, ""},
    EntryRow{"performance_schema", Type::kBoolean, Only::kAny, Origin::kFixed, "OFF"},
    EntryRow{"port", Type::kInteger, Only::kAny, Origin::kComputed, ""},
    EntryRow{"query_cache_size", Type::kInteger, Only::kAny, Origin::kFixed, "0"},
    EntryRow{"query_cache_type", Type::kText, Only::kAny, Origin::kFixed, "OFF"},
    EntryRow{"read_only", Type::kBoolean, Only::kAny, Origin::kFixed, "ON"},
    EntryRow{"rpl_semi_sync_master_enabled", Type::kBoolean, Only::kAny, Origin::kComputed, ""},
    EntryRow{"rpl_semi_sync_replica_enabled", Type::kBoolean, Only::kMysql, Origin::kFixed, "OFF"},
    EntryRow{"rpl_semi_sync_slave_enabled", Type::kBoolean, Only::kAny, Origin::kFixed, "OFF"},
    EntryRow{"rpl_semi_sync_source_enabled", Type::kBoolean, Only::kMysql, Origin::kComputed, ""},
    EntryRow{"server_id", Type::kInteger, Only::kAny, Origin::kComputed, ""},
    EntryRow{"server_id_bits", Type::kInteger, Only::kMysql, Origin::kFixed, "32"},
    EntryRow{"server_uuid", Type::kText, Only::kAny, Origin::kComputed, ""},
    EntryRow{"sql_mode", Type::kText, Only::kAny, Origin::kFixed, ""},
    EntryRow{"sync_binlog", Type::kInteger, Only::kAny, Origin::kFixed, "1"},
    EntryRow{"system_time_zone", Type::kText, Only::kAny, Origin::kFixed, "UTC"},
    EntryRow{"time_zone", Type::kText, Only::kAny, Origin::kFixed, "SYSTEM"},
    EntryRow{"transaction_isolation", Type::kText, Only::kAny, Origin::kFixed, "REPEATABLE-READ"},
    EntryRow{"tx_isolation", Type::kText, Only::kAny, Origin::kFixed, "REPEATABLE-READ"},
    EntryRow{"version", Type::kText, Only::kAny, Origin::kComputed, ""},
    EntryRow{"version_comment", Type::kText, Only::kAny, Origin::kSource, "binlog-relay"},
    EntryRow{"version_compile_os", Type::kText, Only::kAny, Origin::kFixed, "Linux"},
    EntryRow{"wait_timeout", Type::kInteger, Only::kAny, Origin::kFixed, "28800"},
};

std::string boolean_text(bool on) {
  return on ? "ON" : "OFF";
}

// MariaDB has the semi-sync variables built in (OFF when not enabled); mysqld has them only with
// the semi-sync plugin loaded, without it they are unknown (1193). The relay offers semi-sync to
// its replicas when it is a semi-sync replica of its source ([source] semi_sync).
bool known_for(std::string_view name, Flavor flavor, bool semi_sync) {
  return semi_sync || flavor != Flavor::kMysql || !name.starts_with("rpl_semi_sync_");
}

}  // namespace

std::string SystemVariable::selected() const {
  if (type != Type::kBoolean) return value;
  return equals_ignore_case(value, "ON") || value == "1" || equals_ignore_case(value, "TRUE") ? "1" : "0";
}

SourceIdentity presented_source(const std::optional<SourceIdentity>& recorded, storage::BinlogStore& store) {
  if (recorded) return *recorded;
  SourceIdentity identity;
  identity.flavor = Flavor::kMysql;
  identity.version = std::string(kDefaultSourceVersion);
  auto files = store.list_files();
  if (!files || files->empty() || files->back().format_description.empty()) return identity;
  auto fde = binlog::parse_format_description(files->back().format_description);
  auto header = binlog::parse_event_header(files->back().format_description);
  if (!fde || !header) return identity;
  return source_identity_from_format_description(*fde, header->server_id);
}

std::string unknown_source_message() {
  return "binlog-relay has not reached its source yet and does not know the source's flavour and "
         "version: retry once it has connected to its source (replicas retry on their own; SHOW RELAY "
         "STATUS tells an admin account why it has not)";
}

ServerVariables::ServerVariables(RelayContext& context, StoredGtidState& gtids)
    : context_(context), gtids_(gtids) {}

const SourceIdentity& ServerVariables::source() {
  if (context_.source) return *context_.source;
  derived_source_ = presented_source(std::nullopt, context_.store);
  return *derived_source_;
}

bool ServerVariables::source_known() {
  return !is_unknown_source(source());
}

std::string ServerVariables::version() {
  return std::string(strip_compatibility_prefix(source().version));
}

binlog::ChecksumAlgorithm ServerVariables::binlog_checksum() {
  if (auto files = context_.store.list_files();
      files && !files->empty() && !files->back().format_description.empty())
    return file_checksum_algorithm(files->back());
  return source().checksum;
}

bool ServerVariables::semi_sync_enabled() const {
  return context_.config.source.semi_sync;
}

std::optional<std::string> ServerVariables::source_variable(std::string_view name) {
  const auto& variables = source().variables;
  const auto it = variables.find(std::string(name));
  if (it == variables.end()) return std::nullopt;
  return it->second;
}

Result<SystemVariable> ServerVariables::evaluate(const Entry& entry) {
  SystemVariable variable;
  variable.name = std::string(entry.name);
  variable.type = entry.type;
  if (entry.origin == Origin::kFixed) {
    variable.value = std::string(entry.fallback);
    return variable;
  }
  if (entry.origin == Origin::kSource) {
    variable.value = source_variable(entry.name).value_or(std::string(entry.fallback));
    return variable;
  }
  const std::string_view name = entry.name;
  const Config& config = context_.config;
  if (name == "server_id") {
    variable.value = std::to_string(config.server.server_id);
  } else if (name == "server_uuid") {
    variable.value = context_.server_uuid;
  } else if (name == "max_allowed_packet") {
    variable.value = std::to_string(config.server.max_allowed_packet);
  } else if (name == "net_write_timeout") {
    // In whole seconds, as mysqld's; 0 (never) reads as mysqld's largest value.
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(config.server.net_write_timeout).count();
    variable.value = std::to_string(seconds == 0 ? 31536000 : seconds);
  } else if (name == "port") {
    variable.value = std::to_string(config.server.listen.port);
  } else if (name == "hostname") {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
    variable.value = host;
  } else if (name == "rpl_semi_sync_master_enabled" || name == "rpl_semi_sync_source_enabled") {
    variable.value = boolean_text(semi_sync_enabled());
  } else if (name == "have_ssl") {
    variable.value = config.server.tls_cert.empty() ? "DISABLED" : "YES";
  } else if (name == "version") {
    variable.value = version();
  } else if (name == "binlog_checksum") {
    const auto algorithm = binlog_checksum();
    variable.value = algorithm == binlog::ChecksumAlgorithm::kCrc32 ? "CRC32" : "NONE";
  } else if (name == "binlog_expire_logs_seconds") {
    variable.value = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(config.storage.retention_time).count());
  } else if (name == "expire_logs_days") {
    variable.value = std::to_string(
        std::chrono::duration_cast<std::chrono::hours>(config.storage.retention_time).count() / 24);
  } else if (name == "gtid_mode" || name == "enforce_gtid_consistency") {
    if (auto recorded = source_variable(name)) {
      variable.value = *recorded;
    } else {
      BRELAY_ASSIGN_OR_RETURN(bool gtids, gtids_.has_mysql_gtids());
      variable.value = boolean_text(gtids);
    }
  } else if (name == "gtid_executed") {
    BRELAY_ASSIGN_OR_RETURN(binlog::GtidSet executed, gtids_.mysql_executed());
    variable.value = executed.to_string();
  } else if (name == "gtid_purged") {
    BRELAY_ASSIGN_OR_RETURN(binlog::GtidSet purged, gtids_.mysql_purged());
    variable.value = purged.to_string();
  } else if (name == "gtid_binlog_pos" || name == "gtid_current_pos") {
    BRELAY_ASSIGN_OR_RETURN(MariadbBinlogState state, gtids_.mariadb_state());
    variable.value = state.position().to_string();
  } else if (name == "gtid_binlog_state") {
    BRELAY_ASSIGN_OR_RETURN(MariadbBinlogState state, gtids_.mariadb_state());
    variable.value = state.state_text();
  } else if (name == "gtid_domain_id") {
    if (auto recorded = source_variable(name)) {
      variable.value = *recorded;
    } else {
      BRELAY_ASSIGN_OR_RETURN(MariadbBinlogState state, gtids_.mariadb_state());
      const auto& domains = state.position().gtids();
      variable.value = domains.empty() ? "0" : std::to_string(domains.rbegin()->first);
    }
  }
  return variable;
}

Result<std::optional<SystemVariable>> ServerVariables::find(std::string_view name) {
  const std::string lower = to_lower(name);
  const Flavor flavor = this->flavor();
  for (const auto& [entry_name, type, only, origin, fallback] : kEntries) {
    if (entry_name != lower) continue;
    if ((only == Only::kMysql && flavor != Flavor::kMysql) ||
        (only == Only::kMariadb && flavor != Flavor::kMariadb) ||
        !known_for(lower, flavor, semi_sync_enabled()))
      return std::optional<SystemVariable>();
    BRELAY_ASSIGN_OR_RETURN(SystemVariable variable,
                            evaluate(Entry{entry_name, type, only, origin, fallback}));
    return std::optional<SystemVariable>(std::move(variable));
  }
  // Any other variable the source reported.
  if (auto recorded = source_variable(lower)) {
    SystemVariable variable;
    variable.name = lower;
    variable.value = *recorded;
    return std::optional<SystemVariable>(std::move(variable));
  }
  return std::optional<SystemVariable>();
}

Result<std::vector<SystemVariable>> ServerVariables::all() {
  std::vector<SystemVariable> variables;
  const Flavor flavor = this->flavor();
  for (const auto& [entry_name, type, only, origin, fallback] : kEntries) {
    if ((only == Only::kMysql && flavor != Flavor::kMysql) ||
        (only == Only::kMariadb && flavor != Flavor::kMariadb) ||
        !known_for(entry_name, flavor, semi_sync_enabled()))
      continue;
    BRELAY_ASSIGN_OR_RETURN(SystemVariable variable,
                            evaluate(Entry{entry_name, type, only, origin, fallback}));
    variables.push_back(std::move(variable));
  }
  for (const auto& [name, value] : source().variables) {
    const bool listed = std::any_of(kEntries.begin(), kEntries.end(),
                                    [&name = name](const auto& entry) { return std::get<0>(entry) == name; });
    if (!listed) variables.push_back(SystemVariable{name, value, SystemVariable::Type::kText});
  }
  std::sort(variables.begin(), variables.end(),
            [](const SystemVariable& a, const SystemVariable& b) { return a.name < b.name; });
  return variables;
}

}  // namespace brelay::relay::downstream
