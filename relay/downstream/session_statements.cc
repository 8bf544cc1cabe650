#include "relay/downstream/session_statements.h"

#include <spdlog/spdlog.h>

#include "net/binary_protocol.h"
#include "relay/downstream/mysql_errors.h"
#include "relay/downstream/schema_forwarder.h"
#include "relay/downstream/sql_statement.h"
#include "relay/downstream/statement_executor.h"

namespace brelay::relay::downstream {
namespace {

constexpr std::uint16_t kUnknownStatementHandler = 1243;       // ER_UNKNOWN_STMT_HANDLER, HY000
constexpr std::uint16_t kWrongArguments = 1210;                // ER_WRONG_ARGUMENTS, HY000
constexpr std::uint16_t kUnsupportedPreparedStatement = 1295;  // ER_UNSUPPORTED_PS, HY000
constexpr std::uint16_t kMaxPreparedReached = 1461;            // ER_MAX_PREPARED_STMT_COUNT_REACHED, 42000
constexpr std::size_t kMaxBoundBytes = 64 * 1024;

Error unknown_statement(std::uint32_t id, std::string_view command) {
  return Error(fmt::format("Unknown prepared statement handler ({}) given to {}", id, command),
               kUnknownStatementHandler);
}

void reply(net::ServerSession& session, Result<net::QueryResult> result, bool binary) {
  if (!result) {
    (void)session.send_error(to_err_packet(result.error()));
    return;
  }
  if (!result->has_rows) {
    (void)session.send_ok(result->ok);
    return;
  }
  if (!binary) {
    (void)session.send_result_set(result->result_set);
    return;
  }
  auto packets = net::encode_binary_result_set(result->result_set, session.deprecate_eof());
  if (!packets) {
    (void)session.send_error(to_err_packet(Error(
        fmt::format("binlog-relay could not encode the answer as binary rows: {}", packets.error().message()),
        mysql_error::kUnknownError)));
    return;
  }
  (void)session.send_reply(*packets);
}

}  // namespace

std::size_t SessionStatements::statement_bytes(const Prepared& statement) {
  std::size_t bytes = sizeof(Prepared) + statement.sql.size() +
                      statement.parameter_count * sizeof(std::uint16_t) +
                      statement.schema.pieces.size() * sizeof(std::string);
  for (const std::string& piece : statement.schema.pieces)
    bytes += piece.size();
  return bytes;
}

bool schema_allowed_for(const std::vector<UserConfig>& users, std::string_view user) {
  for (const UserConfig& config : users)
    if (config.name == user) return config.schema;
  return false;
}

PreparedStatementBudget& PreparedStatementBudget::process() {
  static PreparedStatementBudget budget;
  return budget;
}

bool PreparedStatementBudget::take(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (count_ >= max_count_ || bytes > max_bytes_ - std::min(bytes_, max_bytes_)) return false;
  ++count_;
  bytes_ += bytes;
  return true;
}

void PreparedStatementBudget::give_back(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (count_ > 0) --count_;
  bytes_ -= std::min(bytes, bytes_);
}

std::size_t PreparedStatementBudget::count() const {
  std::lock_guard lock(mutex_);
  return count_;
}
std::size_t PreparedStatementBudget::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}
std::size_t PreparedStatementBudget::max_count() const {
  std::lock_guard lock(mutex_);
  return max_count_;
}
std::size_t PreparedStatementBudget::max_bytes() const {
  std::lock_guard lock(mutex_);
  return max_bytes_;
}
void PreparedStatementBudget::set_limits(std::size_t max_count, std::size_t max_bytes) {
  std::lock_guard lock(mutex_);
  max_count_ = max_count;
  max_bytes_ = max_bytes;
}

SessionStatements::SessionStatements(DownstreamServices& services, UserVariables& variables,
                                     bool schema_allowed, ListEvents list_events,
                                     PreparedStatementBudget& budget)
    : services_(services),
      variables_(variables),
      schema_allowed_(schema_allowed),
      list_events_(std::move(list_events)),
      budget_(budget) {}

SessionStatements::~SessionStatements() {
  for (const auto& [id, statement] : statements_)
    budget_.give_back(statement.bytes);
}

bool SessionStatements::handles(std::uint8_t command) {
  return command == net::command::kStmtPrepare || command == net::command::kStmtExecute ||
         command == net::command::kStmtClose || command == net::command::kStmtReset ||
         command == net::command::kStmtSendLongData;
}

void SessionStatements::on_command(net::ServerSession& session, std::uint8_t command, ByteView payload) {
  if (command == net::command::kStmtPrepare) {
    prepare(session, payload);
    return;
  }
  if (command == net::command::kStmtExecute) {
    execute(session, payload);
    return;
  }
  auto id = net::decode_statement_id(payload);
  auto found = id ? statements_.find(*id) : statements_.end();
  if (command == net::command::kStmtClose) {
    if (found != statements_.end()) {
      budget_.give_back(found->second.bytes);
      statements_.erase(found);
    }
    session.finish_without_reply();  // COM_STMT_CLOSE has no answer
    return;
  }
  if (command == net::command::kStmtSendLongData) {
    if (found != statements_.end()) found->second.long_data = true;
    session.finish_without_reply();
    return;
  }
  // COM_STMT_RESET
  if (found == statements_.end()) {
    (void)session.send_error(to_err_packet(unknown_statement(id ? *id : 0, "mysqld_stmt_reset")));
    return;
  }
  found->second.long_data = false;
  (void)session.send_ok();
}

std::optional<Result<SchemaQuery>> SessionStatements::recognize(net::ServerSession& session,
                                                                std::string_view sql) const {
  if (!looks_like_schema_query(sql)) return std::nullopt;
  auto query = recognize_schema_query(sql, session.database());
  if (schema_allowed_) return query;
  // Without the flag, what is no schema query keeps the statement parser's refusal.
  if (!query) return std::nullopt;
  return Result<SchemaQuery>(
      Error(fmt::format("Access denied for user '{}': binlog-relay forwards schema queries "
                        "to its source only for accounts with schema = true in [[users]]",
                        session.user()),
            mysql_error::kSpecificAccessDenied));
}

bool SessionStatements::try_schema_query(net::ServerSession& session, std::string_view sql) {
  auto recognized = recognize(session, sql);
  if (!recognized) return false;
  auto& query = *recognized;
  if (!query) {
    (void)session.send_error(to_err_packet(query.error()));
    return true;
  }
  if (query->parameter_count() != 0) {
    (void)session.send_error(
        to_err_packet(Error("'?' placeholders need a prepared statement", mysql_error::kParseError)));
    return true;
  }
  forward(session, query->pieces[0], false);
  return true;
}

void SessionStatements::forward(net::ServerSession& session, std::string sql, bool binary) {
  if (services_.schema == nullptr) {
    (void)session.send_error(to_err_packet(Error("the relay is shutting down", mysql_error::kUnknownError)));
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  net::ServerSession* target = &session;
  services_.schema->forward(session.user(), std::move(sql),
                            [alive, target, binary](Result<net::QueryResult> result) {
                              if (alive.expired()) return;
                              reply(*target, std::move(result), binary);
                            });
}

void SessionStatements::prepare(net::ServerSession& session, ByteView payload) {
  const std::string_view sql = as_text(payload.subspan(1));
  auto refuse = [&session](const Error& error) { (void)session.send_error(to_err_packet(error)); };
  if (statements_.size() >= kMaxPrepared) {
    refuse(Error(fmt::format("Can't create more than max_prepared_stmt_count statements (current value: {})",
                             kMaxPrepared),
                 kMaxPreparedReached));
    return;
  }
  if (sql.size() > kMaxSchemaQueryBytes) {
    refuse(Error(fmt::format("binlog-relay prepares statements of at most {} bytes", kMaxSchemaQueryBytes),
                 mysql_error::kNotSupportedYet));
    return;
  }
  Prepared statement;
  auto parsed = parse_statement(sql);
  if (parsed) {
    if (std::holds_alternative<PurgeStatement>(*parsed)) {
      refuse(Error("This command is not supported in the prepared statement protocol yet",
                   kUnsupportedPreparedStatement));
      return;
    }
    statement.sql = std::string(sql);
  } else if (auto recognized = recognize(session, sql)) {
    auto& query = *recognized;
    if (!query) {
      refuse(query.error());
      return;
    }
    statement.forwarded = true;
    statement.parameter_count = query->parameter_count();
    statement.schema = std::move(*query);
  } else {
    refuse(parsed.error());
    return;
  }
  statement.bytes = statement_bytes(statement);
  if (!budget_.take(statement.bytes)) {
    refuse(
        Error(fmt::format("Can't create more than max_prepared_stmt_count statements (current value: {}; "
                          "binlog-relay also holds at most {} bytes of prepared statements across sessions)",
                          budget_.max_count(), budget_.max_bytes()),
              kMaxPreparedReached));
    return;
  }
  const std::uint32_t id = next_id_++;
  net::StmtPrepareOk ok;
  ok.statement_id = id;
  ok.parameter_count = static_cast<std::uint16_t>(statement.parameter_count);
  statements_.emplace(id, std::move(statement));
  (void)session.send_reply(net::encode_stmt_prepare_ok(ok, session.deprecate_eof()));
}

void SessionStatements::execute(net::ServerSession& session, ByteView payload) {
  auto refuse = [&session](const Error& error) { (void)session.send_error(to_err_packet(error)); };
  auto id = net::decode_statement_id(payload);
  auto found = id ? statements_.find(*id) : statements_.end();
  if (found == statements_.end()) {
    refuse(unknown_statement(id ? *id : 0, "mysqld_stmt_execute"));
    return;
  }
  Prepared& statement = found->second;
  if (statement.long_data) {
    refuse(Error(
        "Incorrect arguments to mysqld_stmt_execute (binlog-relay does not take COM_STMT_SEND_LONG_DATA)",
        kWrongArguments));
    return;
  }
  auto decoded = net::decode_stmt_execute(payload, statement.parameter_count, statement.types);
  if (!decoded) {
    refuse(Error(fmt::format("Incorrect arguments to mysqld_stmt_execute ({})", decoded.error().message()),
                 kWrongArguments));
    return;
  }
  statement.types = decoded->types;
  if (!statement.forwarded) {
    execute_local(session, statement);
    return;
  }
  std::vector<std::string> literals;
  std::size_t bound_bytes = 0;
  for (const net::BoundParameter& parameter : decoded->parameters) {
    switch (parameter.kind) {
      case net::BoundParameter::Kind::kNull: literals.emplace_back("NULL"); break;
      case net::BoundParameter::Kind::kNumber: literals.push_back(parameter.text); break;
      case net::BoundParameter::Kind::kString: {
        auto literal = sql_string_literal(parameter.text);
        if (!literal) {
          refuse(literal.error());
          return;
        }
        literals.push_back(std::move(*literal));
        break;
      }
    }
    bound_bytes += literals.back().size();
  }
  if (bound_bytes > kMaxBoundBytes) {
    refuse(Error(fmt::format("Incorrect arguments to mysqld_stmt_execute (parameters longer than {} bytes)",
                             kMaxBoundBytes),
                 kWrongArguments));
    return;
  }
  auto sql = bind_schema_query(statement.schema, literals);
  if (!sql) {
    refuse(sql.error());
    return;
  }
  forward(session, std::move(*sql), true);
}

void SessionStatements::execute_local(net::ServerSession& session, const Prepared& statement) {
  auto parsed = parse_statement(statement.sql);
  if (!parsed) {
    (void)session.send_error(to_err_packet(parsed.error()));
    return;
  }
  if (auto* show = std::get_if<ShowBinlogEventsStatement>(&*parsed)) {
    list_events_(session, *show);
    return;
  }
  StatementExecutor executor(services_, session, variables_);
  auto answer = executor.execute(*parsed);
  if (!answer) {
    (void)session.send_error(to_err_packet(answer.error()));
    return;
  }
  net::QueryResult result;
  if (auto* ok = std::get_if<net::OkPacket>(&*answer)) {
    result.ok = *ok;
  } else {
    result.has_rows = true;
    result.result_set = std::move(std::get<net::ResultSet>(*answer));
  }
  reply(session, std::move(result), true);
}

}  // namespace brelay::relay::downstream
