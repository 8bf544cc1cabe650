// SessionStatements: one session's prepared statements (COM_STMT_PREPARE, COM_STMT_EXECUTE with
// binary result rows, COM_STMT_CLOSE, COM_STMT_RESET, COM_STMT_SEND_LONG_DATA) and its schema
// queries. A statement is prepared when the relay answers it itself (what parse_statement() reads,
// without placeholders; PURGE excepted) or when it is a schema query (schema_query.h) and the
// account has `schema = true`: those are forwarded to the source by the SchemaForwarder, as text
// result sets for COM_QUERY and binary ones for COM_STMT_EXECUTE, with the parameters bound as
// literals into the rendered statement.
//
// At most kMaxPrepared statements per session, and across every session of the process at most
// PreparedStatementBudget's (MySQL's max_prepared_stmt_count, 16382, and a bound on the bytes they
// hold); beyond either, ERR 1461 (ER_MAX_PREPARED_STMT_COUNT_REACHED). Each statement has at most
// kMaxSchemaQueryParameters placeholders and kMaxSchemaQueryBytes of text. Prepare answers with no column
// definitions: each execution sends its own (clients read those; MySQL does the same for statements whose
// columns it cannot know before running them).
//
// Owned by the DownstreamSession; loop thread only. Answers that arrive after the session ended
// are dropped.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "net/server_session.h"
#include "relay/downstream/downstream_services.h"
#include "relay/downstream/schema_query.h"
#include "relay/downstream/sql_statement.h"
#include "relay/downstream/user_variables.h"

namespace brelay::relay::downstream {

// The prepared statements of every session of the process: how many, and about how many bytes
// they hold (text, rendered pieces, parameter types, bookkeeping). Thread-safe (relays in one
// process, as in tests, share it).
class PreparedStatementBudget {
 public:
  static constexpr std::size_t kMaxCount = 16382;                  // mysqld's max_prepared_stmt_count default
  static constexpr std::size_t kMaxBytes = std::size_t{64} << 20;  // 16382 statements of 4 KiB

  // The one the sessions use.
  static PreparedStatementBudget& process();

  // Takes one statement of `bytes`; false (nothing taken) when the count or the bytes would exceed
  // the limits.
  bool take(std::size_t bytes);
  void give_back(std::size_t bytes);
  std::size_t count() const;
  std::size_t bytes() const;
  std::size_t max_count() const;
  std::size_t max_bytes() const;
  // For tests.
  void set_limits(std::size_t max_count, std::size_t max_bytes);

 private:
  mutable std::mutex mutex_;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
  std::size_t max_count_ = kMaxCount;
  std::size_t max_bytes_ = kMaxBytes;
};

class SessionStatements {
 public:
  static constexpr std::size_t kMaxPrepared = 128;

  // Answers a prepared SHOW BINLOG EVENTS with binary rows, in parts (the session's BinlogEventsStream).
  using ListEvents = std::function<void(net::ServerSession& session, const ShowBinlogEventsStatement& show)>;

  // `schema_allowed` is the session account's [[users]] schema flag.
  SessionStatements(DownstreamServices& services, UserVariables& variables, bool schema_allowed,
                    ListEvents list_events,
                    PreparedStatementBudget& budget = PreparedStatementBudget::process());
  ~SessionStatements();

  // Whether `command` is one of the COM_STMT_* commands handled here.
  static bool handles(std::uint8_t command);
  void on_command(net::ServerSession& session, std::uint8_t command, ByteView payload);

  // COM_QUERY text the statement parser did not take: when it looks like a schema query, it is
  // forwarded (or refused with the reason) and this returns true; otherwise the caller answers.
  bool try_schema_query(net::ServerSession& session, std::string_view sql);

 private:
  struct Prepared {
    bool forwarded = false;  // a schema query (else answered by the relay)
    std::string sql;         // what the relay answers itself
    SchemaQuery schema;      // forwarded: the rendered statement
    std::size_t parameter_count = 0;
    std::vector<std::uint16_t> types;  // parameter types of the last execution
    bool long_data = false;            // COM_STMT_SEND_LONG_DATA arrived (not supported)
    std::size_t bytes = 0;             // taken from the budget
  };

  // About how many bytes a statement holds (what the budget counts).
  static std::size_t statement_bytes(const Prepared& statement);
  void prepare(net::ServerSession& session, ByteView payload);
  void execute(net::ServerSession& session, ByteView payload);
  void execute_local(net::ServerSession& session, const Prepared& statement);
  // nullopt: no schema query (the statement parser's refusal stands); else the rendered query, or
  // why it is refused (access denied for an account without the flag).
  std::optional<Result<SchemaQuery>> recognize(net::ServerSession& session, std::string_view sql) const;
  // Sends `sql` to the source; the answer goes to `session` as a text or binary result set.
  void forward(net::ServerSession& session, std::string sql, bool binary);

  DownstreamServices& services_;
  UserVariables& variables_;
  bool schema_allowed_;
  ListEvents list_events_;
  PreparedStatementBudget& budget_;
  std::map<std::uint32_t, Prepared> statements_;
  std::uint32_t next_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The [[users]] entry's `schema` flag for `user` (false when the account is not configured).
bool schema_allowed_for(const std::vector<UserConfig>& users, std::string_view user);

}  // namespace brelay::relay::downstream
