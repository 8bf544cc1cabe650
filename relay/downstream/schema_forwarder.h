// SchemaForwarder: the relay's own client connection to its source for the schema queries of CDC
// readers (schema_query.h), separate from the upstream's replication connection. It connects on
// the first query with the [source] account and TLS settings, sets sql_mode '' (the rendered
// queries rely on backslash escapes and on "..." being a string), and runs one query at a time
// from a bounded queue. Results are bounded in size (kMaxResultBytes), each query in time
// (kQueryTimeout); a connection that fails is dropped and made again for the next query.
//
// A source that cannot be reached fails the query with ER_CONNECT_TO_FOREIGN_DATA_SOURCE (1429)
// saying so; the source's own ERR (unknown column, access denied) comes back with its code and
// text. Nothing here touches the binlog stream. Owned by the DownstreamServer; loop thread only;
// `done` runs on the loop thread, at most once, and never after the forwarder is destroyed.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

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
  static constexpr std::size_t kMaxResultBytes = 16 * 1024 * 1024;
  static constexpr std::chrono::milliseconds kQueryTimeout{30'000};
  static constexpr std::chrono::milliseconds kConnectTimeout{5'000};

  // `source` is read at each connection (not owned; it must outlive the forwarder).
  SchemaForwarder(net::EventLoop& loop, const SourceConfig& source);
  ~SchemaForwarder();
  SchemaForwarder(const SchemaForwarder&) = delete;
  SchemaForwarder& operator=(const SchemaForwarder&) = delete;

  // Runs `sql` (a statement recognize_schema_query() rendered) on the source. `done` may run
  // before this returns (a full queue).
  void forward(std::string sql, Done done);

  // Drops the connection; queued queries fail with "shutting down".
  void shutdown();

 private:
  struct Pending {
    std::string sql;
    Done done;
  };

  void pump();
  void connect();
  void run_front();
  void finish_front(Result<net::QueryResult> result);
  void drop_connection();
  // Fails every queued query with `error` and drops the connection.
  void fail_all(const Error& error);
  Error unreachable(const Error& why) const;

  net::EventLoop& loop_;
  const SourceConfig& source_;
  std::deque<Pending> queue_;
  std::unique_ptr<net::MySqlClient> client_;
  net::Timer timer_;      // the running query's deadline
  bool ready_ = false;    // connected and sql_mode set
  bool running_ = false;  // queue_.front() is on the wire
  bool shut_down_ = false;
};

}  // namespace brelay::relay::downstream
