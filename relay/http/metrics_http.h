// MetricsHttpServer: the relay's small HTTP/1.1 endpoint at [metrics] listen, on the relay's loop.
//   GET /metrics  the MetricsRegistry in the Prometheus text format (version 0.0.4)
//   GET /health   200 or 503 with the reason from the daemon's health function
//   GET /status   the relay's status as text (relay_status.h), when a status function is set
//   GET /         a short text naming the two
// HEAD works on each; other methods get 405, other paths 404. Each connection carries one request
// and is closed after the response (Connection: close), which is all a scraper or a probe needs and
// keeps slow or hostile clients cheap: the request head is capped (431 past it), a request must
// arrive whole within request_timeout (5 s: 408, then close, so idle sockets are shed), sending the
// response is bounded by the connection's linger. Nothing a client sends can block the loop or
// reach another session.
//
// /health comes first: past max_connections, up to health_reserve more connections are still read,
// and answered only if they ask for /health (anything else gets 503). When the reserve is full too,
// the oldest reserve connection that has not sent its request yet is dropped to make room, so a
// flood of idle connections cannot keep an orchestrator's liveness probe (which sends its request
// at once) from its answer. Past that (every reserve connection answered and closing), 503 at once.
// /status is limited as status_access.h says.
//
// Lifetime: the server owns its listener and connections; destroying it closes them all (their
// libuv handles are freed by their close callbacks). It borrows the registry and calls the health
// function, which must outlive it. Loop thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/event_loop.h"
#include "net/tcp_listener.h"
#include "relay/core/metrics.h"
#include "relay/http/health.h"
#include "relay/http/http_request.h"
#include "relay/http/status_access.h"

namespace brelay::relay {

class MetricsHttpServer {
 public:
  using HealthFunction = std::function<HealthReport()>;
  using StatusFunction = std::function<std::string()>;

  struct Options {
    std::size_t max_request_bytes = 8192;  // request line and header fields together
    std::chrono::milliseconds request_timeout{5'000};
    std::chrono::milliseconds linger{5'000};  // to send a response and see the peer close
    std::size_t max_connections = 64;
    std::size_t health_reserve = 8;  // more connections, for GET /health only
    StatusAccessPolicy status_access;
  };

  // Listens on `host_port` ("127.0.0.1:9104", "[::1]:0"). Errors name the address and say why
  // (in use, not an IP address, ...).
  static Result<std::unique_ptr<MetricsHttpServer>> start(net::EventLoop& loop, std::string_view host_port,
                                                          const MetricsRegistry& metrics,
                                                          HealthFunction health, Options options);
  static Result<std::unique_ptr<MetricsHttpServer>> start(net::EventLoop& loop, std::string_view host_port,
                                                          const MetricsRegistry& metrics,
                                                          HealthFunction health) {
    return start(loop, host_port, metrics, std::move(health), Options{});
  }

  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  std::uint16_t port() const { return listener_->port(); }
  const std::string& address() const { return listener_->address(); }
  std::size_t open_connections() const { return connections_.size(); }
  // What GET /status answers (404 until set).
  void set_status_function(StatusFunction status) { status_ = std::move(status); }

 private:
  class Connection;
  friend class Connection;

  MetricsHttpServer(net::EventLoop& loop, const MetricsRegistry& metrics, HealthFunction health,
                    Options options);
  void accept(std::unique_ptr<net::TcpConnection> socket);
  // Makes room in the /health reserve by dropping its oldest connection still waiting for a
  // request; false when every reserve connection has been answered.
  bool shed_idle_reserve_connection();
  // The whole response to a complete request head; `reserved`: the connection came in on the
  // /health reserve.
  std::string respond(const HttpRequestHead& head, bool reserved);
  void closed(Connection* connection);  // destroys it

  net::EventLoop& loop_;
  const MetricsRegistry& metrics_;  // not owned
  HealthFunction health_;
  StatusFunction status_;
  const Options options_;
  std::unique_ptr<net::TcpListener> listener_;
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
  std::size_t general_connections_ = 0;  // connections_ not on the reserve
  std::list<Connection*> reserve_;       // the connections_ on the /health reserve, oldest first (not shed)
};

}  // namespace brelay::relay
