// The statements the relay answers (protocol.md sections 1 and 7), parsed from COM_QUERY text into
// plain structs: SET of user and system variables, SELECT of values (literals, @variables,
// @@variables, a few functions) without tables, SHOW VARIABLES / STATUS with LIKE or WHERE
// Variable_name = | IN | LIKE, SHOW MASTER STATUS / BINARY LOG STATUS / BINLOG STATUS, SHOW BINARY
// LOGS, SHOW BINLOG EVENTS [IN] [FROM] [LIMIT], SHOW REPLICAS / SLAVE HOSTS, SHOW GRANTS, SHOW
// WARNINGS, KILL, PURGE BINARY LOGS TO / BEFORE, FLUSH HOSTS, RELEASE HAZARD, USE, and transaction no-ops
// (BEGIN, COMMIT, ...); the relay's own SHOW RELAY STATUS, SHOW RELAY REPLICAS and FORGET REPLICA
// <server_id>.
//
// parse_statement() returns an Error with a MySQL code for everything else: ER_PARSE_ERROR (1064)
// for text it cannot read, ER_NOT_SUPPORTED_YET (1235) for a statement the relay does not answer,
// ER_EMPTY_QUERY (1065) for a query without a statement. Client text is hostile: expressions nest
// at most 256 deep and a statement has at most 4096 tokens; beyond either the answer is MySQL's
// parser-exhaustion ER_PARSE_ERROR, "memory exhausted near '...' at line N". Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "relay/downstream/like_pattern.h"
#include "relay/downstream/sql_tokenizer.h"

namespace brelay::relay::downstream {

struct Expression {
  enum class Kind { kNull, kString, kInteger, kDecimal, kUserVariable, kSystemVariable, kFunction, kDefault };
  Kind kind = Kind::kNull;
  std::string text;  // the literal's value, the variable's name or the function's name (lower case)
  VariableScope scope = VariableScope::kDefault;  // kSystemVariable
  std::vector<Expression> arguments;              // kFunction
  bool negative = false;                          // kInteger/kDecimal written with a leading '-'
};

struct SelectItem {
  Expression expression;
  std::string column_name;  // the alias, or the expression as written
};

struct SelectStatement {
  std::vector<SelectItem> items;
  std::optional<std::uint64_t> limit;
};

struct Assignment {
  enum class Target { kUserVariable, kSystemVariable, kNames, kCharacterSet, kTransaction };
  Target target = Target::kUserVariable;
  std::string name;  // the variable's name as written (kNames/kCharacterSet: the character set)
  VariableScope scope = VariableScope::kDefault;
  Expression value;
};

struct SetStatement {
  std::vector<Assignment> assignments;
};

struct ShowVariablesStatement {
  enum class Filter { kNone, kLike, kNameEquals, kNameIn, kNameLike };
  bool status = false;  // SHOW STATUS rather than SHOW VARIABLES
  VariableScope scope = VariableScope::kDefault;
  Filter filter = Filter::kNone;
  std::vector<std::string> values;  // the LIKE pattern or the names compared with
};

struct ShowMasterStatusStatement {};
struct ShowBinaryLogsStatement {};
struct ShowBinlogEventsStatement {
  std::optional<std::string> file;
  std::optional<std::uint64_t> from;
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> count;
};
// SHOW RELAY STATUS: the relay's own status (relay_status.h).
struct ShowRelayStatusStatement {};
struct ShowReplicasStatement {
  bool replica_names = false;  // SHOW REPLICAS (MySQL 8.0.22 column names) rather than SLAVE HOSTS
};
struct ShowGrantsStatement {
  std::optional<std::string> user;  // empty: the current user
};
struct ShowWarningsStatement {
  bool errors = false;
};
struct KillStatement {
  bool query_only = false;
  std::uint64_t connection_id = 0;
};
struct PurgeStatement {
  bool before = false;   // BEFORE 'datetime' rather than TO 'file'
  std::string argument;  // the file name or the date and time as written
};
struct UseStatement {
  std::string database;
};
// FLUSH HOSTS: unblocks the addresses blocked for failed logins (admins).
struct FlushHostsStatement {};
// RELEASE HAZARD '<gtid or file:pos>': dumps held before that target hazard go on (admins;
// relay/core/target_hazards.h).
struct ReleaseHazardStatement {
  std::string key;
};
// SHOW RELAY REPLICAS: every remembered replica, connected or not (remembered_replicas.h).
struct ShowRelayReplicasStatement {};
// FORGET REPLICA <server_id>: drops a remembered replica (admins).
struct ForgetReplicaStatement {
  std::uint64_t server_id = 0;
};
// Statements that change nothing on a relay: BEGIN, COMMIT, ROLLBACK, START TRANSACTION, DO ...
struct NoOpStatement {};

using Statement =
    std::variant<SelectStatement, SetStatement, ShowVariablesStatement, ShowMasterStatusStatement,
                 ShowBinaryLogsStatement, ShowBinlogEventsStatement, ShowReplicasStatement,
                 ShowRelayStatusStatement, ShowGrantsStatement, ShowWarningsStatement, KillStatement,
                 PurgeStatement, UseStatement, NoOpStatement, FlushHostsStatement, ReleaseHazardStatement,
                 ShowRelayReplicasStatement, ForgetReplicaStatement>;

// Parses one statement (a trailing ';' is allowed).
Result<Statement> parse_statement(std::string_view sql);

}  // namespace brelay::relay::downstream
