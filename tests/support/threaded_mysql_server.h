// A MySqlServer (net/) running on its own EventLoop thread inside the test process, for tests that
// drive it with real clients (the mariadb CLI, mysql2, net/'s BlockingClient). It listens on
// 127.0.0.1 on a free port; the destructor shuts the server down, stops the loop and joins.
//
// RecordingHandler is a SessionHandler for such tests: it answers every query with one row that
// describes the session (so a test can check who logged in and how), answers a few fixed queries
// the way clients expect, and records what it saw.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "net/event_loop.h"
#include "net/mysql_server.h"

namespace brelay::testing {

class ThreadedMySqlServer {
 public:
  static Result<std::unique_ptr<ThreadedMySqlServer>> start(net::ServerSettings settings,
                                                            net::SessionHandlerFactory factory,
                                                            std::string listen = "127.0.0.1:0");
  ~ThreadedMySqlServer();
  ThreadedMySqlServer(const ThreadedMySqlServer&) = delete;
  ThreadedMySqlServer& operator=(const ThreadedMySqlServer&) = delete;

  std::uint16_t port() const { return port_; }

  // Runs `task` on the loop thread and waits for its result.
  template <typename Task>
  auto call(Task task) -> decltype(task(std::declval<net::MySqlServer&>())) {
    using R = decltype(task(std::declval<net::MySqlServer&>()));
    std::packaged_task<R()> packaged([this, &task] { return task(*server_); });
    auto future = packaged.get_future();
    loop_.post([&packaged] { packaged(); });
    return future.get();
  }

 private:
  ThreadedMySqlServer() = default;

  net::EventLoop loop_;
  uv_timer_t keepalive_{};  // keeps run() going while the server has nothing open
  std::unique_ptr<net::MySqlServer> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

// The row RecordingHandler answers a query with: the columns are query, user, role, tls ("YES"/"NO"),
// plugin ("<plugin>/<auth method name>"), database, connection_id, attributes ("k=v,k=v"), nothing (NULL).
inline constexpr int kRecordedColumns = 9;

class RecordingHandler : public net::SessionHandler {
 public:
  struct Log {
    std::mutex mutex;
    std::vector<std::string> queries;  // guarded by mutex
    std::vector<std::string> closed_reasons;
  };

  explicit RecordingHandler(std::shared_ptr<Log> log) : log_(std::move(log)) {}

  void on_query(net::ServerSession& session, std::string_view sql) override;
  void on_closed(net::ServerSession& session, const Status& reason) override;

  static net::SessionHandlerFactory factory(std::shared_ptr<Log> log);

 private:
  std::shared_ptr<Log> log_;
};

}  // namespace brelay::testing
