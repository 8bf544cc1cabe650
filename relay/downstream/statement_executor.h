// Runs the parsed statements of one session that answer at once: SELECT of values (literals,
// @user variables, @@system variables, UNIX_TIMESTAMP(), VERSION(), DATABASE(), USER(),
// CURRENT_USER(), CONNECTION_ID(), NOW(), BINLOG_GTID_POS()), SET (user variables are stored,
// session system variables are accepted, SET GLOBAL is refused), the SHOW statements, KILL, USE
// and transaction no-ops. PURGE waits for the storage writer and SHOW BINLOG EVENTS goes out in
// parts (BinlogEventsStream): the session handler runs those.
// One per session; loop thread.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "common/result.h"
#include "net/mysql_packets.h"
#include "net/server_session.h"
#include "relay/downstream/downstream_services.h"
#include "relay/downstream/sql_statement.h"
#include "relay/downstream/user_variables.h"

namespace brelay::relay::downstream {

using QueryReply = std::variant<net::OkPacket, net::ResultSet>;

// A computed value and how a result set column should announce it.
struct Value {
  enum class Type { kText, kInteger, kDecimal };
  std::optional<std::string> text;  // nullopt: SQL NULL
  Type type = Type::kText;
};

class StatementExecutor {
 public:
  StatementExecutor(DownstreamServices& services, net::ServerSession& session, UserVariables& variables)
      : services_(services), session_(session), variables_(variables) {}

  // Errors carry the MySQL error code to answer with.
  Result<QueryReply> execute(const Statement& statement);
  Result<Value> evaluate(const Expression& expression);

 private:
  Result<QueryReply> select(const SelectStatement& select);
  Result<QueryReply> set(const SetStatement& set);
  Result<QueryReply> kill(const KillStatement& kill);
  Result<QueryReply> flush_hosts();
  Result<QueryReply> release_hazard(const std::string& key);
  // SHOW RELAY REPLICAS and FORGET REPLICA (admins).
  Result<QueryReply> remembered_replicas(const Statement& statement);
  Result<Value> call(const Expression& call);

  DownstreamServices& services_;
  net::ServerSession& session_;
  UserVariables& variables_;
};

}  // namespace brelay::relay::downstream
