#include "relay/downstream/statement_executor.h"

#include <charconv>
#include <cstdlib>
#include <ctime>

#include <spdlog/spdlog.h>

#include "common/cut_for_log.h"
#include "relay/downstream/downstream_accounts.h"
#include "relay/downstream/mysql_errors.h"
#include "relay/downstream/remembered_replicas.h"
#include "relay/downstream/show_answers.h"

namespace brelay::relay::downstream {
namespace {

constexpr std::uint16_t kFunctionDoesNotExist = 1305;  // ER_SP_DOES_NOT_EXIST, 42000
constexpr std::uint16_t kWrongArguments = 1582;        // ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT, 42000
constexpr std::uint16_t kQueryInterrupted = 1317;      // ER_QUERY_INTERRUPTED, 70100

net::ColumnDefinition column_for(const std::string& name, Value::Type type) {
  switch (type) {
    case Value::Type::kInteger: return net::ColumnDefinition::signed_integer(name);
    case Value::Type::kDecimal: {
      net::ColumnDefinition column = net::ColumnDefinition::text(name, 64);
      column.type = net::ColumnType::kDouble;
      column.charset = 63;
      column.decimals = 31;
      return column;
    }
    case Value::Type::kText: break;
  }
  return net::ColumnDefinition::text(name);
}

Value from_user_value(const UserValue* value) {
  if (value == nullptr || value->type == UserValue::Type::kNull) return {};
  Value out;
  out.text = value->text;
  out.type = value->type == UserValue::Type::kInteger   ? Value::Type::kInteger
             : value->type == UserValue::Type::kDecimal ? Value::Type::kDecimal
                                                        : Value::Type::kText;
  return out;
}

UserValue to_user_value(const Value& value) {
  if (!value.text) return UserValue::null();
  switch (value.type) {
    case Value::Type::kInteger: return {UserValue::Type::kInteger, *value.text};
    case Value::Type::kDecimal: return {UserValue::Type::kDecimal, *value.text};
    case Value::Type::kText: break;
  }
  return UserValue::string(*value.text);
}

std::string now_text() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

// mariadb-binlog: MariaDB Connector/C with program_name "mysqlbinlog".
bool is_mariadb_binlog_reader(const net::ServerSession& session) {
  bool binlog_program = false;
  bool mariadb_connector = false;
  for (const auto& [key, value] : session.connect_attributes()) {
    if (key == "program_name" && value == "mysqlbinlog") binlog_program = true;
    if (key == "_client_name" && value == "libmariadb") mariadb_connector = true;
  }
  return binlog_program && mariadb_connector;
}

Error wrong_arguments(std::string_view function) {
  return Error(fmt::format("Incorrect parameter count in the call to native function '{}'", function),
               kWrongArguments);
}

}  // namespace

Result<QueryReply> StatementExecutor::execute(const Statement& statement) {
  const Flavor flavor = services_.variables.flavor();
  storage::BinlogStore& store = services_.context.store;
  if (auto* select_statement = std::get_if<SelectStatement>(&statement)) return select(*select_statement);
  if (auto* set_statement = std::get_if<SetStatement>(&statement)) return set(*set_statement);
  if (auto* show = std::get_if<ShowVariablesStatement>(&statement)) {
    if (show->status) {
      const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                           services_.started);
      // Ssl_cipher / Ssl_version: the session's TLS, empty values without it (as mysqld and MariaDB).
      // Rpl_semi_sync_master_status: unknown on a mysqld without the semi-sync plugin.
      std::vector<SystemVariable> status = {
          {"rpl_semi_sync_master_status", services_.variables.semi_sync_enabled() ? "ON" : "OFF",
           SystemVariable::Type::kBoolean},
          {"ssl_cipher", session_.tls() ? session_.tls_cipher() : "", SystemVariable::Type::kText},
          {"ssl_version", session_.tls() ? session_.tls_version() : "", SystemVariable::Type::kText},
          {"threads_connected",
           std::to_string(services_.server != nullptr ? services_.server->session_count() : 0),
           SystemVariable::Type::kInteger},
          {"uptime", std::to_string(uptime.count()), SystemVariable::Type::kInteger},
      };
      if (flavor == Flavor::kMysql && !services_.variables.semi_sync_enabled()) status.erase(status.begin());
      net::ResultSet result = show_variables(*show, status);
      // SHOW STATUS names are capitalised.
      for (auto& row : result.rows) {
        std::string& name = *row[0];
        if (!name.empty()) name[0] = static_cast<char>(name[0] - 'a' + 'A');
      }
      return QueryReply(std::move(result));
    }
    BRELAY_ASSIGN_OR_RETURN(std::vector<SystemVariable> variables, services_.variables.all());
    return QueryReply(show_variables(*show, variables));
  }
  if (std::holds_alternative<ShowMasterStatusStatement>(statement)) {
    BRELAY_ASSIGN_OR_RETURN(net::ResultSet result, show_master_status(store, services_.gtids, flavor));
    return QueryReply(std::move(result));
  }
  if (std::holds_alternative<ShowBinaryLogsStatement>(statement)) {
    BRELAY_ASSIGN_OR_RETURN(net::ResultSet result, show_binary_logs(store, services_.variables.source()));
    return QueryReply(std::move(result));
  }
  if (auto* replicas = std::get_if<ShowReplicasStatement>(&statement))
    return QueryReply(show_replicas(services_.registry.replicas(), flavor, replicas->replica_names));
  if (auto* grants = std::get_if<ShowGrantsStatement>(&statement)) {
    if (grants->user && *grants->user != session_.user() && session_.role() != kAdminRole)
      return access_denied("SELECT");
    return QueryReply(show_grants(grants->user.value_or(session_.user()),
                                  grants->user ? std::string(kReplicaRole) : session_.role(), flavor));
  }
  if (std::holds_alternative<ShowRelayStatusStatement>(statement)) {
    net::ResultSet result;
    result.columns = {net::ColumnDefinition::text("Name", 64), net::ColumnDefinition::text("Value", 4096)};
    if (services_.context.status_rows) {
      for (auto& [name, value] : services_.context.status_rows())
        result.rows.push_back({name, value});
    }
    return QueryReply(std::move(result));
  }
  if (std::holds_alternative<ShowWarningsStatement>(statement)) return QueryReply(show_warnings());
  if (auto* kill_statement = std::get_if<KillStatement>(&statement)) return kill(*kill_statement);
  if (std::holds_alternative<UseStatement>(statement) || std::holds_alternative<NoOpStatement>(statement))
    return QueryReply(net::OkPacket());
  if (std::holds_alternative<FlushHostsStatement>(statement)) return flush_hosts();
  if (auto* release = std::get_if<ReleaseHazardStatement>(&statement)) return release_hazard(release->key);
  if (std::holds_alternative<ShowRelayReplicasStatement>(statement) ||
      std::holds_alternative<ForgetReplicaStatement>(statement))
    return remembered_replicas(statement);
  return Error("PURGE runs on the storage writer and SHOW BINLOG EVENTS in parts, not here",
               mysql_error::kUnknownError);
}

Result<QueryReply> StatementExecutor::select(const SelectStatement& select) {
  net::ResultSet result;
  net::TextRow row;
  for (const SelectItem& item : select.items) {
    BRELAY_ASSIGN_OR_RETURN(Value value, evaluate(item.expression));
    result.columns.push_back(column_for(item.column_name, value.type));
    row.push_back(std::move(value.text));
  }
  if (!select.limit || *select.limit > 0) result.rows.push_back(std::move(row));
  return QueryReply(std::move(result));
}

Result<QueryReply> StatementExecutor::set(const SetStatement& set) {
  // Evaluate everything first: a failing assignment changes nothing, as in MySQL.
  std::vector<std::pair<std::string, UserValue>> user_values;
  for (const Assignment& assignment : set.assignments) {
    switch (assignment.target) {
      case Assignment::Target::kUserVariable: {
        BRELAY_ASSIGN_OR_RETURN(Value value, evaluate(assignment.value));
        user_values.emplace_back(assignment.name, to_user_value(value));
        break;
      }
      case Assignment::Target::kSystemVariable:
        if (assignment.scope == VariableScope::kGlobal) {
          if (session_.role() != kAdminRole) return access_denied("SUPER or SYSTEM_VARIABLES_ADMIN");
          return Error(
              fmt::format("binlog-relay does not change global variables at run time ('{}'): set it in "
                          "the configuration file and reload (SIGHUP) or restart",
                          assignment.name),
              mysql_error::kNotSupportedYet);
        }
        // Session settings (sql_mode, net_write_timeout, skip_replication, ...) change nothing a relay
        // serves: accepted. Their values must still read.
        if (assignment.value.kind != Expression::Kind::kDefault) BRELAY_TRY(evaluate(assignment.value));
        break;
      case Assignment::Target::kNames:
      case Assignment::Target::kCharacterSet:
      case Assignment::Target::kTransaction: break;
    }
  }
  for (auto& [name, value] : user_values)
    variables_.set(name, std::move(value));
  return QueryReply(net::OkPacket());
}

Result<QueryReply> StatementExecutor::flush_hosts() {
  if (session_.role() != kAdminRole) return access_denied("RELOAD");
  if (services_.server == nullptr) return Error("the server is shutting down", mysql_error::kUnknownError);
  const std::size_t unblocked = services_.server->flush_hosts();
  spdlog::info("FLUSH HOSTS by {} from {}: failed-login counts cleared, {} blocked address(es) unblocked",
               session_.user(), session_.peer_address(), unblocked);
  return QueryReply(net::OkPacket());
}

Result<QueryReply> StatementExecutor::release_hazard(const std::string& key) {
  if (session_.role() != kAdminRole) return access_denied("SUPER");
  auto released = services_.context.hazards.release(key);
  if (!released) return Error(released.error().message(), mysql_error::kUnknownError);
  spdlog::info("RELEASE HAZARD '{}' by {} from {}: held dumps continue", cut_for_log(key), session_.user(),
               session_.peer_address());
  net::OkPacket ok;
  ok.affected_rows = *released;
  return QueryReply(ok);
}

Result<QueryReply> StatementExecutor::remembered_replicas(const Statement& statement) {
  if (services_.remembered == nullptr) return Error("the server is starting", mysql_error::kUnknownError);
  if (std::holds_alternative<ShowRelayReplicasStatement>(statement))
    return QueryReply(services_.remembered->show());
  if (session_.role() != kAdminRole) return access_denied("SUPER");
  const std::uint64_t server_id = std::get<ForgetReplicaStatement>(statement).server_id;
  if (server_id > UINT32_MAX) return Error(fmt::format("{} is not a server_id", server_id), 1210);
  BRELAY_TRY(services_.remembered->forget(static_cast<std::uint32_t>(server_id)));
  spdlog::info("FORGET REPLICA {} by {} from {}: retention no longer keeps what it needs", server_id,
               session_.user(), session_.peer_address());
  return QueryReply(net::OkPacket());
}

Result<QueryReply> StatementExecutor::kill(const KillStatement& kill) {
  if (services_.server == nullptr) return Error("the server is shutting down", mysql_error::kUnknownError);
  const auto id = static_cast<std::uint32_t>(kill.connection_id);
  net::ServerSession* target =
      kill.connection_id <= UINT32_MAX ? services_.server->find_session(id) : nullptr;
  if (target == nullptr)
    return Error(fmt::format("Unknown thread id: {}", kill.connection_id), mysql_error::kNoSuchThread);
  if (target->user() != session_.user() && session_.role() != kAdminRole)
    return Error(fmt::format("You are not owner of thread {}", kill.connection_id), mysql_error::kKillDenied);
  if (target == &session_) {
    session_.close(make_error("the session killed itself"),
                   net::ErrPacket{kQueryInterrupted, "70100", "Query execution was interrupted"});
    return QueryReply(net::OkPacket());
  }
  if (kill.query_only && !target->streaming()) return QueryReply(net::OkPacket());
  target->close(make_error("killed by connection {} ({})", session_.connection_id(), session_.user()));
  return QueryReply(net::OkPacket());
}

Result<Value> StatementExecutor::evaluate(const Expression& expression) {
  Value value;
  switch (expression.kind) {
    case Expression::Kind::kNull:
    case Expression::Kind::kDefault: return value;
    case Expression::Kind::kString: value.text = expression.text; return value;
    case Expression::Kind::kInteger:
    case Expression::Kind::kDecimal:
      value.text = (expression.negative ? "-" : "") + expression.text;
      value.type =
          expression.kind == Expression::Kind::kInteger ? Value::Type::kInteger : Value::Type::kDecimal;
      return value;
    case Expression::Kind::kUserVariable: return from_user_value(variables_.find(expression.text));
    case Expression::Kind::kSystemVariable: {
      BRELAY_ASSIGN_OR_RETURN(auto variable, services_.variables.find(expression.text));
      if (!variable) return unknown_system_variable(expression.text);
      value.text = variable->selected();
      if (variable->type != SystemVariable::Type::kText) value.type = Value::Type::kInteger;
      return value;
    }
    case Expression::Kind::kFunction: return call(expression);
  }
  return value;
}

Result<Value> StatementExecutor::call(const Expression& call) {
  const std::string& name = call.text;
  const auto& arguments = call.arguments;
  Value value;
  auto no_arguments = [&]() -> Status {
    if (!arguments.empty()) return wrong_arguments(name);
    return {};
  };
  if (name == "unix_timestamp") {
    BRELAY_TRY(no_arguments());
    value.text = std::to_string(std::time(nullptr));
    value.type = Value::Type::kInteger;
  } else if (name == "version") {
    BRELAY_TRY(no_arguments());
    value.text = services_.variables.version();
    // MariaDB's binlog reader accepts only servers whose VERSION() reads as 3, 4, 5 or 10 (client/
    // mysqlbinlog.cc check_master_version) and refuses a MySQL 8 source. For that client alone the
    // relay puts MariaDB's own compatibility prefix in front: "5.5.5-8.0.36".
    if (services_.variables.flavor() == Flavor::kMysql && is_mariadb_binlog_reader(session_)) {
      const int major = std::atoi(value.text->c_str());
      if (major != 3 && major != 4 && major != 5 && major != 10) value.text = "5.5.5-" + *value.text;
    }
  } else if (name == "database" || name == "schema") {
    BRELAY_TRY(no_arguments());
    if (!session_.database().empty()) value.text = session_.database();
  } else if (name == "user" || name == "session_user" || name == "system_user") {
    BRELAY_TRY(no_arguments());
    value.text = fmt::format("{}@{}", session_.user(), session_.peer_host());
  } else if (name == "current_user") {
    BRELAY_TRY(no_arguments());
    value.text = fmt::format("{}@%", session_.user());
  } else if (name == "connection_id") {
    BRELAY_TRY(no_arguments());
    value.text = std::to_string(session_.connection_id());
    value.type = Value::Type::kInteger;
  } else if (name == "now" || name == "current_timestamp" || name == "sysdate" || name == "localtime") {
    value.text = now_text();
  } else if (name == "last_insert_id" || name == "row_count" || name == "found_rows") {
    value.text = "0";
    value.type = Value::Type::kInteger;
  } else if (name == "binlog_gtid_pos") {
    if (arguments.size() != 2) return wrong_arguments(name);
    BRELAY_ASSIGN_OR_RETURN(Value file, evaluate(arguments[0]));
    BRELAY_ASSIGN_OR_RETURN(Value position, evaluate(arguments[1]));
    if (!file.text || !position.text) return value;
    std::uint64_t offset = 0;
    const auto [ptr, ec] =
        std::from_chars(position.text->data(), position.text->data() + position.text->size(), offset);
    if (ec != std::errc()) return value;
    (void)ptr;
    // MariaDB answers NULL for a file or position it cannot resolve.
    auto state = services_.gtids.mariadb_position_at(*file.text, offset);
    if (state) value.text = state->to_string();
  } else {
    return Error(fmt::format("FUNCTION {} does not exist", name), kFunctionDoesNotExist);
  }
  return value;
}

}  // namespace brelay::relay::downstream
