// A blocking convenience over MySqlClient for the `check` command and tests: it owns a private
// EventLoop and runs it until each call completes. One thread at a time; never on a loop thread.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "net/event_loop.h"
#include "net/mysql_client.h"

namespace brelay::net {

class BlockingClient {
 public:
  // Connects and logs in (bounded by options.connect_timeout).
  static Result<std::unique_ptr<BlockingClient>> connect(ClientOptions options);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  Result<QueryResult> query(std::string sql);
  // Rows of a query that must return a result set.
  Result<ResultSet> query_rows(std::string sql);
  Result<OkPacket> command(Bytes payload);

  const HandshakeV10& greeting() const { return client_->greeting(); }
  MySqlClient& async() { return *client_; }
  EventLoop& loop() { return loop_; }

  // Sends COM_QUIT and waits for the socket to close.
  void close();

 private:
  BlockingClient() = default;
  // Runs the loop until `done` is true.
  void run_until(const bool& done);

  EventLoop loop_;
  std::unique_ptr<MySqlClient> client_;
};

}  // namespace brelay::net
