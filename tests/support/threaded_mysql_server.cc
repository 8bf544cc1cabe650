#include "tests/support/threaded_mysql_server.h"

#include <algorithm>
#include <cctype>

namespace brelay::testing {

Result<std::unique_ptr<ThreadedMySqlServer>> ThreadedMySqlServer::start(net::ServerSettings settings,
                                                                        net::SessionHandlerFactory factory,
                                                                        std::string listen) {
  std::unique_ptr<ThreadedMySqlServer> threaded(new ThreadedMySqlServer);
  threaded->server_ =
      std::make_unique<net::MySqlServer>(threaded->loop_, std::move(settings), std::move(factory));
  BRELAY_TRY(threaded->server_->listen(listen));
  threaded->port_ = threaded->server_->port();
  uv_timer_init(threaded->loop_.raw(), &threaded->keepalive_);
  uv_timer_start(
      &threaded->keepalive_, [](uv_timer_t*) {}, 3600'000, 3600'000);
  threaded->thread_ = std::thread([loop = &threaded->loop_] { (void)loop->run(); });
  return threaded;
}

ThreadedMySqlServer::~ThreadedMySqlServer() {
  call([](net::MySqlServer& server) { server.shutdown(); });
  // Give closing sessions a moment to flush, then drop whatever is left.
  for (int i = 0; i < 200 && call([](net::MySqlServer& server) { return server.session_count(); }) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  loop_.post([this] {
    server_.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&keepalive_), nullptr);
  });
  loop_.stop();
  thread_.join();
}

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

void RecordingHandler::on_query(net::ServerSession& session, std::string_view sql) {
  {
    std::lock_guard lock(log_->mutex);
    log_->queries.emplace_back(sql);
  }
  const std::string query = lower(sql);
  if (query.starts_with("select @@version_comment")) {
    net::ResultSet result;
    result.columns.push_back(net::ColumnDefinition::text("@@version_comment"));
    result.rows.push_back({std::string("binlog-relay test server")});
    (void)session.send_result_set(result);
    return;
  }
  if (query.starts_with("fail")) {
    (void)session.send_error(1064, "42000", "You have an error in your SQL syntax (test)");
    return;
  }
  if (query.starts_with("set ") || query.starts_with("do ")) {
    (void)session.send_ok();
    return;
  }
  std::string attributes;
  for (const auto& [key, value] : session.connect_attributes()) {
    if (!attributes.empty()) attributes += ',';
    attributes += key + "=" + value;
  }
  net::ResultSet result;
  for (const char* name :
       {"query", "user", "role", "tls", "plugin", "database", "connection_id", "attributes", "nothing"})
    result.columns.push_back(net::ColumnDefinition::text(name));
  result.rows.push_back(
      {std::string(sql), session.user(), session.role(), std::string(session.tls() ? "YES" : "NO"),
       session.auth_plugin() + "/" + std::string(net::auth_method_name(session.auth_method())),
       session.database(), std::to_string(session.connection_id()), attributes, std::nullopt});
  (void)session.send_result_set(result);
}

void RecordingHandler::on_closed(net::ServerSession&, const Status& reason) {
  std::lock_guard lock(log_->mutex);
  log_->closed_reasons.push_back(reason ? std::string("ok") : reason.error().message());
}

net::SessionHandlerFactory RecordingHandler::factory(std::shared_ptr<Log> log) {
  return [log](net::ServerSession&) { return std::make_unique<RecordingHandler>(log); };
}

}  // namespace brelay::testing
