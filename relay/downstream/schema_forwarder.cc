#include "relay/downstream/schema_forwarder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "common/cut_for_log.h"

namespace brelay::relay::downstream {
namespace {

constexpr int kConnectToForeignDataSource = 1429;  // ER_CONNECT_TO_FOREIGN_DATA_SOURCE, HY000
// ER_USER_LIMIT_REACHED (42000, "User '%s' has exceeded the '%s' resource"): a per-account limit
// that clears by itself, as with max_queries_per_hour; ER_TOO_MANY_USER_CONNECTIONS (1203) would
// wrongly say that connections are the problem.
constexpr int kUserLimitReached = 1226;
constexpr int kTooManyConnections = 1040;  // ER_CON_COUNT_ERROR, 08004: the shared queue is full

constexpr std::string_view kUnansweredText =
    "binlog-relay could not reach its source to answer this schema query (see the relay's log); the binlog "
    "stream is not affected: retry later";

// The charset check after SET NAMES utf8mb4, the last step of the session setup.
constexpr std::string_view kCharsetQuery = "SELECT @@character_set_client, @@character_set_connection";

struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
};

Version parse_version(std::string_view text) {
  Version version;
  int* parts[] = {&version.major, &version.minor, &version.patch};
  const char* at = text.data();
  const char* end = text.data() + text.size();
  for (int* part : parts) {
    auto [next, ec] = std::from_chars(at, end, *part);
    if (ec != std::errc()) break;
    at = next;
    if (at == end || *at != '.') break;
    ++at;
  }
  return version;
}

}  // namespace

SchemaForwarder::SchemaForwarder(net::EventLoop& loop, const SourceConfig& source)
    : SchemaForwarder(loop, source, Limits()) {}

SchemaForwarder::SchemaForwarder(net::EventLoop& loop, const SourceConfig& source, Limits limits)
    : loop_(loop), source_(source), limits_(limits), timer_(loop.raw()), kill_timer_(loop.raw()) {}

SchemaForwarder::~SchemaForwarder() {
  shutdown();
  kill_timer_.stop();
  killer_.reset();
}

std::optional<std::string> SchemaForwarder::statement_time_sql(std::string_view server_version,
                                                               std::chrono::milliseconds limit) {
  if (limit.count() <= 0) return std::nullopt;
  if (server_version.find("MariaDB") != std::string_view::npos) {
    // MariaDB 10.1+: seconds, as a decimal; any statement.
    return fmt::format("SET SESSION max_statement_time = {}.{:03}", limit.count() / 1000,
                       limit.count() % 1000);
  }
  // MySQL 5.7.8+: milliseconds, read-only SELECTs (all that is forwarded). SHOW has no limit there.
  const Version v = parse_version(server_version);
  if (v.major > 5 || (v.major == 5 && (v.minor > 7 || (v.minor == 7 && v.patch >= 8))))
    return fmt::format("SET SESSION max_execution_time = {}", limit.count());
  return std::nullopt;
}

void SchemaForwarder::forward(std::string account, std::string sql, Done done) {
  if (shut_down_) {
    done(Error("the relay is shutting down", kConnectToForeignDataSource));
    return;
  }
  if (queue_.size() >= kMaxQueued) {
    done(Error(fmt::format("binlog-relay has {} schema queries waiting for its source already; retry later",
                           queue_.size()),
               kTooManyConnections));
    return;
  }
  const auto mine = std::count_if(queue_.begin(), queue_.end(),
                                  [&](const Pending& pending) { return pending.account == account; });
  if (static_cast<std::size_t>(mine) >= kMaxQueuedPerAccount) {
    done(Error(fmt::format("User '{}' has exceeded the 'schema queries waiting for the source' resource "
                           "(current value: {}); retry when its earlier queries are answered",
                           cut_for_log(account, 64), mine),
               kUserLimitReached));
    return;
  }
  queue_.push_back(Pending{std::move(account), std::move(sql), std::move(done)});
  pump();
}

void SchemaForwarder::shutdown() {
  shut_down_ = true;
  fail_all(Error("the relay is shutting down", kConnectToForeignDataSource));
}

void SchemaForwarder::pump() {
  if (running_ || queue_.empty() || shut_down_) return;
  if (!client_) {
    connect();
    return;
  }
  if (ready_) run_front();
}

net::ClientOptions SchemaForwarder::client_options() const {
  net::ClientOptions options;
  options.host = source_.host;
  options.port = source_.port;
  options.user = source_.user;
  options.password = source_.password;
  options.tls_mode = source_.tls;
  options.tls_ca_file = source_.tls_ca;
  options.connect_timeout = limits_.connect_timeout;
  options.max_result_bytes = limits_.max_result_memory;
  options.max_result_memory = limits_.max_result_memory;
  options.max_result_rows = limits_.max_result_rows;
  options.connect_attributes = {{"_client_name", "binlog-relay"}, {"program_name", "binlog-relay-schema"}};
  return options;
}

void SchemaForwarder::connect() {
  client_ = std::make_unique<net::MySqlClient>(loop_, client_options());
  ready_ = false;
  // The login and every setup statement together, so that no exchange waits unbounded.
  timer_.start(limits_.connect_timeout, [this] {
    spdlog::warn("schema queries: the source {}:{} did not finish the login and session setup within {} ms",
                 source_.host, source_.port, limits_.connect_timeout.count());
    fail_all(unanswered());
  });
  client_->connect([this, client = client_.get()](const Status& status) {
    if (client_.get() != client) return;  // dropped meanwhile (drop_connection() closing it)
    if (!status) {
      spdlog::warn("schema queries: cannot connect to the source {}:{}: {}", source_.host, source_.port,
                   cut_for_log(status.error().message()));
      fail_all(unanswered());
      return;
    }
    set_up(0);
  });
}

void SchemaForwarder::set_up(std::size_t step) {
  std::optional<std::string> sql;
  switch (step) {
    // The rendered queries escape strings with backslashes and read "..." as strings.
    case 0: sql = "SET SESSION sql_mode = ''"; break;
    // They are UTF-8 (schema_query.h checks), and escaped for a charset where no byte of a multi-byte
    // character is a quote or a backslash.
    case 1: sql = "SET NAMES utf8mb4"; break;
    case 2: sql = statement_time_sql(client_->greeting().server_version, limits_.statement_time); break;
    case 3: sql = std::string(kCharsetQuery); break;
    default: break;
  }
  if (step > 3) {
    timer_.stop();
    ready_ = true;
    pump();
    return;
  }
  if (!sql) {
    set_up(step + 1);
    return;
  }
  client_->query(std::move(*sql), [this, step, client = client_.get()](Result<net::QueryResult> result) {
    if (client_.get() != client) return;
    if (result && step == 3) {
      const auto& rows = result->result_set.rows;
      const bool utf8mb4 = rows.size() == 1 && rows[0].size() == 2 &&
                           std::all_of(rows[0].begin(), rows[0].end(),
                                       [](const auto& value) { return value && *value == "utf8mb4"; });
      if (!utf8mb4) result = make_error("the source did not switch the connection to utf8mb4");
    }
    if (!result) {
      spdlog::warn("schema queries: setting up the session on the source {}:{} failed: {}", source_.host,
                   source_.port, cut_for_log(result.error().message()));
      fail_all(unanswered());
      return;
    }
    set_up(step + 1);
  });
}

void SchemaForwarder::run_front() {
  running_ = true;
  timer_.start(limits_.query_timeout, [this] { timed_out(); });
  spdlog::debug("schema query forwarded to the source: {}", cut_for_log(queue_.front().sql, 200));
  client_->query(queue_.front().sql, [this, client = client_.get()](Result<net::QueryResult> result) {
    if (client_.get() != client) return;  // timed out or shut down: answered there
    timer_.stop();
    if (!result && result.error().code() <= 0) {
      // The connection broke (or the result was too large): make a new one for the next query.
      const bool too_large = result.error().message().find("larger than") != std::string::npos ||
                             result.error().message().find("more than") != std::string::npos;
      spdlog::warn("schema query for '{}' failed: {}", cut_for_log(queue_.front().account, 64),
                   cut_for_log(result.error().message()));
      drop_connection();
      finish_front(too_large
                       ? Error(fmt::format("the source's answer to this schema query is larger than "
                                           "binlog-relay forwards ({} rows, {} bytes); narrow it with WHERE",
                                           limits_.max_result_rows, limits_.max_result_memory),
                               kConnectToForeignDataSource)
                       : unanswered());
      return;
    }
    if (!result) {
      const auto& err = client_->last_server_error();
      spdlog::info(
          "the source refused a schema query for '{}': {} ({})", cut_for_log(queue_.front().account, 64),
          cut_for_log(err ? err->message : result.error().message()), cut_for_log(queue_.front().sql, 200));
      finish_front(Error(fmt::format("the source refused this schema query with error {}; its text is in "
                                     "binlog-relay's log",
                                     result.error().code()),
                         result.error().code()));
      return;
    }
    finish_front(std::move(result));
  });
}

void SchemaForwarder::timed_out() {
  spdlog::warn(
      "schema query to the source {}:{} timed out after {} ms; killing it and dropping that "
      "connection: {}",
      source_.host, source_.port, limits_.query_timeout.count(),
      queue_.empty() ? std::string() : cut_for_log(queue_.front().sql, 200));
  const std::uint32_t connection_id = client_ ? client_->greeting().connection_id : 0;
  drop_connection();
  if (connection_id != 0) kill_query(connection_id);
  finish_front(Error(fmt::format("binlog-relay's source did not answer this schema query within {} s",
                                 limits_.query_timeout.count() / 1000),
                     kConnectToForeignDataSource));
}

void SchemaForwarder::kill_query(std::uint32_t connection_id) {
  // A second connection: the first one is busy with the query (and closing it does not stop it).
  killer_ = std::make_unique<net::MySqlClient>(loop_, client_options());
  kill_timer_.start(limits_.connect_timeout, [this] {
    spdlog::warn("schema queries: KILL QUERY on the source did not finish in time");
    killer_.reset();
  });
  killer_->connect([this, connection_id](const Status& status) {
    if (!status) {
      spdlog::warn("schema queries: cannot connect to the source to kill a query: {}",
                   cut_for_log(status.error().message()));
      kill_timer_.stop();
      killer_.reset();
      return;
    }
    killer_->query(
        fmt::format("KILL QUERY {}", connection_id), [this](const Result<net::QueryResult>& result) {
          if (!result)
            spdlog::warn("schema queries: KILL QUERY failed: {}", cut_for_log(result.error().message()));
          kill_timer_.stop();
          killer_.reset();
        });
  });
}

void SchemaForwarder::finish_front(Result<net::QueryResult> result) {
  running_ = false;
  if (queue_.empty()) return;
  Done done = std::move(queue_.front().done);
  queue_.pop_front();
  done(std::move(result));
  pump();
}

void SchemaForwarder::drop_connection() {
  timer_.stop();
  ready_ = false;
  // Moved out first: the callbacks that close() runs see that their connection is gone.
  if (std::unique_ptr<net::MySqlClient> client = std::move(client_)) client->close();
}

void SchemaForwarder::fail_all(const Error& error) {
  drop_connection();
  running_ = false;
  std::deque<Pending> failed;
  failed.swap(queue_);
  for (Pending& pending : failed)
    pending.done(error);
}

Error SchemaForwarder::unanswered() {
  return Error(std::string(kUnansweredText), kConnectToForeignDataSource);
}

}  // namespace brelay::relay::downstream
