#include "relay/downstream/schema_forwarder.h"

#include <spdlog/spdlog.h>

namespace brelay::relay::downstream {
namespace {

constexpr int kConnectToForeignDataSource = 1429;  // ER_CONNECT_TO_FOREIGN_DATA_SOURCE, HY000

}  // namespace

SchemaForwarder::SchemaForwarder(net::EventLoop& loop, const SourceConfig& source)
    : loop_(loop), source_(source), timer_(loop.raw()) {}

SchemaForwarder::~SchemaForwarder() {
  shutdown();
}

void SchemaForwarder::forward(std::string sql, Done done) {
  if (shut_down_) {
    done(Error("the relay is shutting down", kConnectToForeignDataSource));
    return;
  }
  if (queue_.size() >= kMaxQueued) {
    done(Error(fmt::format("binlog-relay has {} schema queries waiting for its source already; retry later",
                           queue_.size()),
               kConnectToForeignDataSource));
    return;
  }
  queue_.push_back(Pending{std::move(sql), std::move(done)});
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

void SchemaForwarder::connect() {
  net::ClientOptions options;
  options.host = source_.host;
  options.port = source_.port;
  options.user = source_.user;
  options.password = source_.password;
  options.tls_mode = source_.tls;
  options.tls_ca_file = source_.tls_ca;
  options.connect_timeout = kConnectTimeout;
  options.max_result_bytes = kMaxResultBytes;
  options.connect_attributes = {{"_client_name", "binlog-relay"}, {"program_name", "binlog-relay-schema"}};
  client_ = std::make_unique<net::MySqlClient>(loop_, std::move(options));
  ready_ = false;
  client_->connect([this](const Status& status) {
    if (!status) {
      fail_all(unreachable(status.error()));
      return;
    }
    // The rendered queries escape strings with backslashes and read "..." as strings.
    client_->query("SET SESSION sql_mode = ''", [this](const Result<net::QueryResult>& result) {
      if (!result) {
        fail_all(unreachable(result.error()));
        return;
      }
      ready_ = true;
      pump();
    });
  });
}

void SchemaForwarder::run_front() {
  running_ = true;
  timer_.start(kQueryTimeout, [this] {
    spdlog::warn("schema query to the source timed out after {} ms; dropping that connection",
                 kQueryTimeout.count());
    drop_connection();
    finish_front(Error(fmt::format("binlog-relay's source {}:{} did not answer this schema query within {} s",
                                   source_.host, source_.port, kQueryTimeout.count() / 1000),
                       kConnectToForeignDataSource));
  });
  spdlog::debug("schema query forwarded to the source: {}", queue_.front().sql.substr(0, 200));
  client_->query(queue_.front().sql, [this](Result<net::QueryResult> result) {
    timer_.stop();
    if (!result && result.error().code() <= 0) {
      // The connection broke (or the result was too large): make a new one for the next query.
      const bool too_large = result.error().message().find("larger than") != std::string::npos;
      drop_connection();
      finish_front(too_large ? Error(fmt::format("the source's answer to this schema query is larger than "
                                                 "binlog-relay forwards ({} bytes); narrow it with WHERE",
                                                 kMaxResultBytes),
                                     kConnectToForeignDataSource)
                             : unreachable(result.error()));
      return;
    }
    if (!result) {
      const auto& err = client_->last_server_error();
      finish_front(Error(err ? err->message : result.error().message(), result.error().code()));
      return;
    }
    finish_front(std::move(result));
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
  if (client_) {
    client_->close();
    client_.reset();
  }
}

void SchemaForwarder::fail_all(const Error& error) {
  drop_connection();
  running_ = false;
  std::deque<Pending> failed;
  failed.swap(queue_);
  for (Pending& pending : failed)
    pending.done(error);
}

Error SchemaForwarder::unreachable(const Error& why) const {
  return Error(fmt::format("binlog-relay could not reach its source {}:{} to answer this schema query ({}); "
                           "the binlog stream is not affected: retry when the source is reachable",
                           source_.host, source_.port, why.message()),
               kConnectToForeignDataSource);
}

}  // namespace brelay::relay::downstream
