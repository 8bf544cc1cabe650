// SchemaForwarder: the relay's own client connection to its source for the schema queries of CDC
// readers (schema_query.h), separate from the upstream's replication connection. It connects on
// the first query with the [source] account and TLS settings, prepares the session (sql_mode ''
// since the rendered queries rely on backslash escapes; SET NAMES utf8mb4, read back and checked;
// a server-side statement time limit: MariaDB's max_statement_time, MySQL's max_execution_time),
// and runs one query at a time from a bounded queue, fair per account (kMaxQueuedPerAccount).
// Results are bounded in rows and memory (ClientOptions::max_result_rows / max_result_memory),
// every exchange with the source in time (Limits); on a relay-side timeout the running query is
// killed with KILL QUERY through a second connection and its connection is dropped; a connection
// that fails is dropped and made again for the next query.
//
// Downstream clients never see the source's address or its raw error texts: a source that cannot
// be reached, times out or answers too much fails the query with ER_CONNECT_TO_FOREIGN_DATA_SOURCE
// (1429) and a generic text; the source's own ERR keeps its code with a generic text. The details
// go to the relay's log (cut_for_log). Nothing here touches the binlog stream. Owned by the
// DownstreamServer; loop thread only; `done` runs on the loop thread, at most once, and never
// after the forwarder is destroyed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/event_loop.h"
#include "net/mysql_client.h"
#include "net/timer.h"
#include "relay/core/config.h"

namespace brelay::relay::downstream {

class SchemaForwarder {
 public:
  using Done = std::function<void(Result<net::QueryResult>)>;

  static constexpr std::size_t kMaxQueued = 64;
  // One account cannot fill the shared queue: its further queries are refused at once.
  static constexpr std::size_t kMaxQueuedPerAccount = 8;
  static constexpr std::size_t kMaxResultBytes = 16 * 1024 * 1024;
  static constexpr std::size_t kMaxResultRows = 200'000;

  struct Limits {
    std::chrono::milliseconds query_timeout{30'000};  // relay side, per query
    // The source's own limit on each forwarded statement (0: none).
    std::chrono::milliseconds statement_time{30'000};
    // Login plus session setup; also each KILL QUERY.
    std::chrono::milliseconds connect_timeout{5'000};
    std::size_t max_result_memory = kMaxResultBytes;
    std::size_t max_result_rows = kMaxResultRows;
  };

  // `source` is read at each connection (not owned; it must outlive the forwarder).
  SchemaForwarder(net::EventLoop& loop, const SourceConfig& source);
  SchemaForwarder(net::EventLoop& loop, const SourceConfig& source, Limits limits);
  ~SchemaForwarder();
  SchemaForwarder(const SchemaForwarder&) = delete;
  SchemaForwarder& operator=(const SchemaForwarder&) = delete;

  // Runs `sql` (a statement recognize_schema_query() rendered) on the source for `account`. `done`
  // may run before this returns (a full queue).
  void forward(std::string account, std::string sql, Done done);

  // Drops the connection; queued queries fail with "shutting down".
  void shutdown();

  // The statement that limits each statement's run time on a source of this version ("10.11.6-
  // MariaDB", "8.0.36"), or none when the server has no such setting (MySQL before 5.7.8).
  static std::optional<std::string> statement_time_sql(std::string_view server_version,
                                                       std::chrono::milliseconds limit);

 private:
  struct Pending {
    std::string account;
    std::string sql;
    Done done;
  };

  void pump();
  void connect();
  // The session setup after the login, one statement after the other, then the charset check.
  void set_up(std::size_t step);
  void run_front();
  void finish_front(Result<net::QueryResult> result);
  void timed_out();
  void kill_query(std::uint32_t connection_id);
  void drop_connection();
  // Fails every queued query with `error` and drops the connection.
  void fail_all(const Error& error);
  net::ClientOptions client_options() const;
  // What the client hears when the source could not answer (the details go to the log).
  static Error unanswered();

  net::EventLoop& loop_;
  const SourceConfig& source_;
  Limits limits_;
  std::deque<Pending> queue_;
  std::unique_ptr<net::MySqlClient> client_;
  std::unique_ptr<net::MySqlClient> killer_;  // the KILL QUERY connection, while one runs
  net::Timer timer_;                          // the login, setup or running query's deadline
  net::Timer kill_timer_;
  bool ready_ = false;    // connected and the session set up
  bool running_ = false;  // queue_.front() is on the wire
  bool shut_down_ = false;
};

}  // namespace brelay::relay::downstream
