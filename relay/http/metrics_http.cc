#include "relay/http/metrics_http.h"

#include <spdlog/spdlog.h>

#include "net/timer.h"

namespace brelay::relay {
namespace {

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

std::string error_response(int status, std::string_view reason,
                           const std::vector<std::pair<std::string, std::string>>& extra_fields = {}) {
  return http_response(status, kTextPlain, std::string(reason) + "\n", false, extra_fields);
}

}  // namespace

// One accepted connection: collects the request head, answers once and closes.
class MetricsHttpServer::Connection final : public net::TcpConnection::Observer {
 public:
  // Which of the server's counts the connection is in: the general pool, the /health reserve, or
  // none (answered 503 at once).
  enum class Pool { kGeneral, kHealthReserve, kOverflow };

  Connection(MetricsHttpServer& server, std::unique_ptr<net::TcpConnection> socket, Pool pool)
      : server_(server), socket_(std::move(socket)), timer_(server.loop_.raw()), pool_(pool) {
    socket_->set_observer(this);
  }

  Pool pool() const { return pool_; }
  bool answered() const { return answered_; }
  // Drops the connection without an answer (the reserve needs its place).
  void shed() {
    answered_ = true;
    timer_.stop();
    socket_->close();
  }

  void start() {
    timer_.start(server_.options_.request_timeout,
                 [this] { answer(error_response(408, "the request did not arrive in time")); });
    if (auto reading = socket_->start_reading(); !reading) socket_->close();
  }

  void answer(const std::string& response) {
    if (answered_) return;
    answered_ = true;
    timer_.stop();
    socket_->stop_reading();
    if (auto written = socket_->write(as_bytes(response)); !written) {
      socket_->close();
      return;
    }
    socket_->close_after_flush(server_.options_.linger);
  }

  void on_read(ByteView bytes) override {
    if (answered_) return;
    received_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const HttpParse parse = parse_http_request_head(received_);
    switch (parse.state) {
      case HttpParse::State::kIncomplete:
        if (received_.size() > server_.options_.max_request_bytes) {
          answer(error_response(431, "the request head is too large"));
        }
        return;
      case HttpParse::State::kBad: answer(error_response(parse.error.status, parse.error.reason)); return;
      case HttpParse::State::kComplete:
        if (parse.head_size > server_.options_.max_request_bytes) {
          answer(error_response(431, "the request head is too large"));
          return;
        }
        answer(server_.respond(parse.head, pool_ == Pool::kHealthReserve));
        return;
    }
  }
  void on_read_end(const Status&) override {
    if (!answered_) socket_->close();
  }
  void on_drained() override {}
  void on_write_error(const Error&) override { socket_->close(); }
  void on_closed() override { server_.closed(this); }

 private:
  MetricsHttpServer& server_;
  std::unique_ptr<net::TcpConnection> socket_;
  net::Timer timer_;
  std::string received_;
  const Pool pool_;
  bool answered_ = false;
};

MetricsHttpServer::MetricsHttpServer(net::EventLoop& loop, const MetricsRegistry& metrics,
                                     HealthFunction health, Options options)
    : loop_(loop), metrics_(metrics), health_(std::move(health)), options_(std::move(options)) {}

MetricsHttpServer::~MetricsHttpServer() {
  connections_.clear();
}

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::start(net::EventLoop& loop,
                                                                    std::string_view host_port,
                                                                    const MetricsRegistry& metrics,
                                                                    HealthFunction health, Options options) {
  std::unique_ptr<MetricsHttpServer> server(
      new MetricsHttpServer(loop, metrics, std::move(health), std::move(options)));
  auto listener = net::TcpListener::listen(
      loop.raw(), host_port,
      [raw = server.get()](std::unique_ptr<net::TcpConnection> socket) { raw->accept(std::move(socket)); });
  if (!listener) {
    return make_error(
        "[metrics] listen: {}; choose a free address:port (the relay answers GET /metrics "
        "and /health there)",
        listener.error().message());
  }
  server->listener_ = std::move(listener).value();
  return server;
}

void MetricsHttpServer::accept(std::unique_ptr<net::TcpConnection> socket) {
  using Pool = Connection::Pool;
  Pool pool = Pool::kGeneral;
  if (general_connections_ >= options_.max_connections) {
    const bool room = reserve_.size() < options_.health_reserve || shed_idle_reserve_connection();
    pool = room ? Pool::kHealthReserve : Pool::kOverflow;
  }
  auto connection = std::make_unique<Connection>(*this, std::move(socket), pool);
  Connection* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  if (pool == Pool::kOverflow) {
    raw->answer(error_response(503, "too many connections to the metrics endpoint; try again"));
    return;
  }
  if (pool == Pool::kHealthReserve) {
    reserve_.push_back(raw);
  } else {
    ++general_connections_;
  }
  raw->start();
}

bool MetricsHttpServer::shed_idle_reserve_connection() {
  for (Connection* connection : reserve_) {
    if (connection->answered()) continue;
    spdlog::debug("metrics endpoint: dropping an idle connection to keep room for /health");
    reserve_.remove(connection);
    connection->shed();  // its close callback destroys it
    return true;
  }
  return false;
}

std::string MetricsHttpServer::respond(const HttpRequestHead& head, bool reserved) {
  const std::string_view method = head.method;
  const std::string_view path = head.path;
  const bool head_only = method == "HEAD";
  if (reserved && (path != "/health" || (method != "GET" && !head_only))) {
    return error_response(503, "too many connections to the metrics endpoint; only /health is answered now");
  }
  if (path != "/metrics" && path != "/health" && path != "/" && (path != "/status" || !status_)) {
    return error_response(404, "not found: the relay serves /metrics, /health and /status");
  }
  if (method != "GET" && !head_only) {
    return error_response(405, fmt::format("{} is not allowed here: use GET", method),
                          {{"Allow", "GET, HEAD"}});
  }
  if (path == "/metrics") return http_response(200, kPrometheusText, metrics_.render(), head_only);
  if (path == "/health") {
    const HealthReport report = health_ ? health_() : HealthReport{false, "no health function"};
    return http_response(report.healthy ? 200 : 503, kTextPlain,
                         fmt::format("{}: {}\n", report.healthy ? "ok" : "unavailable", report.reason),
                         head_only);
  }
  if (path == "/status") {
    const StatusAccessDecision access =
        decide_status_access(options_.status_access, head.field("Authorization"));
    if (access.status == 401) {
      return error_response(401, access.reason, {{"WWW-Authenticate", "Bearer realm=\"binlog-relay\""}});
    }
    if (access.status != 200) return error_response(access.status, access.reason);
    return http_response(200, kTextPlain, status_(), head_only);
  }
  return http_response(200, kTextPlain,
                       "binlog-relay\n/metrics  Prometheus metrics\n/health   200 when pulling or serving, "
                       "503 otherwise\n/status   the relay's status (as SHOW RELAY STATUS)\n",
                       head_only);
}

void MetricsHttpServer::closed(Connection* connection) {
  if (connection->pool() == Connection::Pool::kHealthReserve) {
    reserve_.remove(connection);
  } else if (connection->pool() == Connection::Pool::kGeneral) {
    --general_connections_;
  }
  connections_.erase(connection);
}

}  // namespace brelay::relay
