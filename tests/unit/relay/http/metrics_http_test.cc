// The metrics endpoint on a real loopback socket, driven by plain blocking sockets from the test
// thread while the server runs on its own loop thread.
#include "relay/http/metrics_http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "tests/support/wait_until.h"

namespace brelay::relay {
namespace {

using namespace std::chrono_literals;

// A client socket: connect, send, read until the server closes.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Everything until the server closes (or the 10 s receive timeout).
  std::string read_all() {
    std::string out;
    char buffer[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int status_of(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 9, "HTTP/1.1 ") != 0) return -1;
  return std::stoi(response.substr(9, 3));
}

std::string body_of(const std::string& response) {
  const std::size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

class MetricsHttpTest : public ::testing::Test {
 protected:
  void start(MetricsHttpServer::Options options = {}) {
    std::promise<Result<std::uint16_t>> started;
    auto future = started.get_future();
    thread_ = std::thread([this, options, &started] {
      auto server = MetricsHttpServer::start(
          loop_, "127.0.0.1:0", registry_,
          [this] {
            return HealthReport{healthy_.load(), "because the test says so"};
          },
          options);
      if (!server) {
        started.set_value(server.error());
        return;
      }
      server_ = std::move(server).value();
      started.set_value(server_->port());
      (void)loop_.run();
      server_.reset();
    });
    auto port = future.get();
    ASSERT_TRUE(port) << port.error().message();
    port_ = *port;
  }
  void TearDown() override {
    loop_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::string request(std::string_view bytes) {
    RawClient client(port_);
    EXPECT_TRUE(client.connected());
    EXPECT_TRUE(client.send(bytes));
    return client.read_all();
  }
  std::size_t open_connections() {
    std::promise<std::size_t> count;
    loop_.post([&] { count.set_value(server_->open_connections()); });
    return count.get_future().get();
  }

  MetricsRegistry registry_;
  std::atomic<bool> healthy_{true};
  net::EventLoop loop_;
  std::unique_ptr<MetricsHttpServer> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

TEST_F(MetricsHttpTest, ServesTheRegistryInPrometheusTextFormat) {
  registry_.counter("binlog_relay_test_total", "A test counter.").add(7);
  start();
  const std::string response = request("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(status_of(response), 200) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(body_of(response), registry_.render());
  EXPECT_NE(body_of(response).find("binlog_relay_test_total 7\n"), std::string::npos);
  const std::string head = request("HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(status_of(head), 200);
  EXPECT_EQ(body_of(head), "");
  EXPECT_NE(head.find(fmt::format("Content-Length: {}\r\n", registry_.render().size())), std::string::npos);
}

TEST_F(MetricsHttpTest, HealthAnswers200Or503WithTheReason) {
  start();
  std::string response = request("GET /health HTTP/1.0\r\n\r\n");
  EXPECT_EQ(status_of(response), 200) << response;
  EXPECT_EQ(body_of(response), "ok: because the test says so\n");
  healthy_ = false;
  response = request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(response), 503) << response;
  EXPECT_EQ(body_of(response), "unavailable: because the test says so\n");
}

TEST_F(MetricsHttpTest, OtherPathsMethodsAndBadRequestsGetTheirStatus) {
  start();
  EXPECT_EQ(status_of(request("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")), 404);
  const std::string post = request("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab");
  EXPECT_EQ(status_of(post), 405) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(status_of(request("GET /metrics HTTP/1.1\r\n\r\n")), 400);
  const char tls_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, static_cast<char>(0xfc),
                            0x03, 0x03};
  EXPECT_EQ(status_of(request(std::string_view(tls_hello, sizeof(tls_hello)))), 400);
  EXPECT_EQ(status_of(request("GET /metrics HTTP/3.0\r\nHost: x\r\n\r\n")), 505);
  EXPECT_EQ(status_of(request("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
}

TEST_F(MetricsHttpTest, OversizedHeadsGet431) {
  MetricsHttpServer::Options options;
  options.max_request_bytes = 1024;
  start(options);
  const std::string big = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(2000, 'a');
  EXPECT_EQ(status_of(request(big)), 431);
  const std::string whole = big + "\r\n\r\n";
  EXPECT_EQ(status_of(request(whole)), 431);
}

TEST_F(MetricsHttpTest, ARequestSentByteByByteIsServed) {
  start();
  RawClient client(port_);
  ASSERT_TRUE(client.connected());
  for (char c : std::string("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")) {
    ASSERT_TRUE(client.send(std::string_view(&c, 1)));
    std::this_thread::sleep_for(1ms);  // the test's subject: each byte arrives in a read of its own
  }
  EXPECT_EQ(status_of(client.read_all()), 200);
}

TEST_F(MetricsHttpTest, SlowClientsTimeOutWithoutDelayingOthers) {
  MetricsHttpServer::Options options;
  options.request_timeout = 500ms;
  start(options);
  RawClient slow(port_);
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.send("GET /metrics HTTP/1.1\r\nHo"));
  // Served while the slow one waits.
  EXPECT_EQ(status_of(request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
  const std::string timed_out = slow.read_all();
  EXPECT_EQ(status_of(timed_out), 408) << timed_out;
}

TEST_F(MetricsHttpTest, ConnectionsBeyondTheLimitGet503AndTheLimitFreesUp) {
  MetricsHttpServer::Options options;
  options.max_connections = 3;
  options.health_reserve = 0;
  options.request_timeout = 300ms;
  start(options);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(idle.back()->connected());
  }
  // The server has accepted all three once it counts them.
  (void)testing::wait_until([&] { return open_connections() >= 3; }, 1s);
  ASSERT_EQ(open_connections(), 3u);
  EXPECT_EQ(status_of(request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")), 503);
  for (auto& client : idle)
    EXPECT_EQ(status_of(client->read_all()), 408);
  idle.clear();
  (void)testing::wait_until([&] { return open_connections() == 0; }, 1s);
  EXPECT_EQ(status_of(request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
}

TEST_F(MetricsHttpTest, HealthIsServedFromItsReserveWhileIdleConnectionsFillTheLimit) {
  MetricsHttpServer::Options options;
  options.max_connections = 3;
  options.health_reserve = 2;
  options.request_timeout = 60s;  // the idle connections would hold their places all along
  start(options);
  // The general limit, the reserve, and more: each newcomer past both sheds the oldest idle reserve
  // connection.
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(idle.back()->connected());
  }
  (void)testing::wait_until([&] { return open_connections() == 5; }, 2s);
  EXPECT_EQ(open_connections(), 5u) << "3 general + 2 reserve; the others were shed";
  for (int probe = 0; probe < 3; ++probe) {
    const std::string response = request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(status_of(response), 200) << response;
    // Answered probes hold their reserve place until they are closed.
    (void)testing::wait_until([&] { return open_connections() < 5; }, 2s);
  }
  EXPECT_EQ(status_of(request("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
  (void)testing::wait_until([&] { return open_connections() < 5; }, 2s);
  // The reserve answers nothing else.
  const std::string metrics = request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(metrics), 503) << metrics;
  EXPECT_NE(body_of(metrics).find("only /health"), std::string::npos) << metrics;
  // The oldest reserve connections were shed: closed without an answer.
  for (std::size_t i = 3; i < 6; ++i)
    EXPECT_EQ(idle[i]->read_all(), "") << i;
}

TEST_F(MetricsHttpTest, StatusFollowsTheAccessPolicy) {
  MetricsHttpServer::Options options;
  options.status_access = {"sesame", true};
  start(options);
  std::promise<void> set;
  loop_.post([this, &set] {
    server_->set_status_function([] { return std::string("Upstream_State: test\n"); });
    set.set_value();
  });
  set.get_future().wait();
  const std::string missing = request("GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(missing), 401) << missing;
  EXPECT_NE(missing.find("WWW-Authenticate: Bearer realm=\"binlog-relay\"\r\n"), std::string::npos);
  EXPECT_EQ(status_of(request("GET /status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sesam\r\n\r\n")),
            401);
  const std::string allowed =
      request("GET /status HTTP/1.1\r\nHost: x\r\nAuthorization: bearer sesame\r\n\r\n");
  EXPECT_EQ(status_of(allowed), 200) << allowed;
  EXPECT_EQ(body_of(allowed), "Upstream_State: test\n");
  EXPECT_EQ(status_of(request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
}

TEST(StatusAccess, TheDecisionByTokenAndListenAddress) {
  // No token: open on loopback, 403 beyond it.
  EXPECT_EQ(decide_status_access({"", true}, std::nullopt).status, 200);
  const StatusAccessDecision disabled = decide_status_access({"", false}, "Bearer anything");
  EXPECT_EQ(disabled.status, 403);
  EXPECT_NE(disabled.reason.find("status_token"), std::string::npos) << disabled.reason;
  // A token: needed everywhere, exactly.
  for (bool loopback : {true, false}) {
    const StatusAccessPolicy policy{"s3cret", loopback};
    EXPECT_EQ(decide_status_access(policy, std::nullopt).status, 401);
    EXPECT_EQ(decide_status_access(policy, "").status, 401);
    EXPECT_EQ(decide_status_access(policy, "Basic czNjcmV0").status, 401);
    EXPECT_EQ(decide_status_access(policy, "Bearer s3cre").status, 401);
    EXPECT_EQ(decide_status_access(policy, "Bearer s3cret2").status, 401);
    EXPECT_EQ(decide_status_access(policy, "Bearers3cret").status, 401);
    EXPECT_EQ(decide_status_access(policy, "Bearer s3cret").status, 200);
    EXPECT_EQ(decide_status_access(policy, "BEARER s3cret").status, 200);
  }
}

TEST(StatusAccess, LoopbackHostsAndSecretComparison) {
  for (const char* host : {"127.0.0.1", "127.8.9.1", "::1", "[::1]", "::ffff:127.0.0.1", "localhost"})
    EXPECT_TRUE(is_loopback_host(host)) << host;
  for (const char* host : {"0.0.0.0", "::", "10.0.0.5", "128.0.0.1", "::2", "example.com", ""})
    EXPECT_FALSE(is_loopback_host(host)) << host;
  EXPECT_TRUE(secrets_equal("abc", "abc"));
  EXPECT_FALSE(secrets_equal("abc", "abd"));
  EXPECT_FALSE(secrets_equal("abc", "abcd"));
  EXPECT_FALSE(secrets_equal("", "a"));
}

TEST_F(MetricsHttpTest, AnAddressInUseIsAClearError) {
  start();
  net::EventLoop other_loop;
  auto second = MetricsHttpServer::start(other_loop, fmt::format("127.0.0.1:{}", port_), registry_, {});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("[metrics] listen"), std::string::npos) << second.error().message();
}

}  // namespace
}  // namespace brelay::relay
