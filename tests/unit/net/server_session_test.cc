// net/'s server beyond the login: commands net/ answers itself, errors for unknown commands, bad
// input (truncated, oversized, garbage, out-of-order packets, clients that never finish the
// handshake or vanish mid-packet) while another client keeps being served, timeouts, ending
// sessions, settings reloaded at run time, and result sets with and without DEPRECATE_EOF.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "common/byte_writer.h"
#include "common/hex.h"
#include "net/blocking_client.h"
#include "net/mysql_constants.h"
#include "net/mysql_server.h"
#include "net/packet_framer.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/threaded_mysql_server.h"
#include "tests/support/wait_until.h"

namespace brelay::net {
namespace {

using testing::RecordingHandler;
using testing::ThreadedMySqlServer;

// A blocking socket speaking raw bytes, for feeding the server what no real client would send.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  void send(ByteView bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  void send_packet(ByteView payload, std::uint8_t sequence_id) { send(encode_packet(payload, sequence_id)); }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }

  // The next packet, or std::nullopt when the server closed the connection or nothing came in time.
  std::optional<Packet> read_packet(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    while (true) {
      auto next = framer_.next();
      if (!next) return std::nullopt;
      if (*next) {
        last_ = Bytes((*next)->payload.begin(), (*next)->payload.end());
        Packet packet = **next;
        packet.payload = last_;
        return packet;
      }
      if (!read_some(timeout)) return std::nullopt;
    }
  }
  // True when the server closes the connection within `timeout` (after any packets it sends).
  bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      std::uint8_t buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        close();  // as a real client does; the server waits for this after a final ERR
        return true;
      }
    }
    return false;
  }

 private:
  bool read_some(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    std::uint8_t buffer[65536];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    framer_.append(ByteView(buffer, static_cast<std::size_t>(n)));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  PacketFramer framer_{1 << 30};
  Bytes last_;
};

class ServerSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tls = testing::TlsTestDir::create("net-session");
    ASSERT_TRUE(tls) << tls.error().message();
    tls_ = std::move(*tls);
  }
  static void TearDownTestSuite() { tls_.reset(); }

  static std::shared_ptr<const AccountStore> accounts(const std::string& password = "secret") {
    auto store = std::make_shared<StaticAccountStore>();
    store->add("app", Account::from_password(password, "admin"));
    return store;
  }

  void start(ServerSettings settings = ServerSettings()) {
    if (!settings.accounts) settings.accounts = accounts();
    log_ = std::make_shared<RecordingHandler::Log>();
    auto server = ThreadedMySqlServer::start(std::move(settings), RecordingHandler::factory(log_));
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
  }

  ClientOptions options(const std::string& password = "secret") const {
    ClientOptions o;
    o.port = server_->port();
    o.user = "app";
    o.password = password;
    o.tls_mode = TlsMode::kDisabled;
    o.tls_ca_file = tls_->certs().ca_cert;
    return o;
  }

  std::unique_ptr<BlockingClient> login(ClientOptions o) {
    auto client = BlockingClient::connect(std::move(o));
    EXPECT_TRUE(client) << client.error().message();
    return client ? std::move(*client) : nullptr;
  }
  std::unique_ptr<BlockingClient> login() { return login(options()); }

  // The bystander: a logged-in client that must keep working whatever the others do.
  void expect_served(BlockingClient& client) {
    auto rows = client.query_rows("SELECT still_here");
    ASSERT_TRUE(rows) << rows.error().message();
    EXPECT_EQ(rows->rows.at(0).at(0), "SELECT still_here");
  }

  std::size_t session_count() {
    return server_->call([](MySqlServer& server) { return server.session_count(); });
  }
  // Waits until the server has exactly `count` sessions (closing ones are gone).
  bool wait_for_sessions(std::size_t count) {
    return testing::wait_until([&] { return session_count() == count; });
  }

  static inline std::unique_ptr<testing::TlsTestDir> tls_;
  std::shared_ptr<RecordingHandler::Log> log_;
  std::unique_ptr<ThreadedMySqlServer> server_;
};

void expect_err(const std::optional<Packet>& packet, std::uint16_t code) {
  ASSERT_TRUE(packet.has_value()) << "expected ERR " << code << ", the server sent nothing";
  auto err = decode_err(packet->payload);
  ASSERT_TRUE(err) << err.error().message();
  EXPECT_EQ(err->code, code) << err->message;
}

TEST_F(ServerSessionTest, PingInitDbAndUnknownCommands) {
  start();
  auto client = login();
  ASSERT_TRUE(client);
  auto ping = client->command(Bytes{command::kPing});
  ASSERT_TRUE(ping) << ping.error().message();
  auto init = client->command(ByteWriter().u8(command::kInitDb).text("shop").data());
  ASSERT_TRUE(init) << init.error().message();
  auto rows = client->query_rows("SELECT db");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->rows[0][5], "shop");
  for (std::uint8_t code :
       {std::uint8_t{0x04}, std::uint8_t{0x16}, std::uint8_t{0x1b}, std::uint8_t{0x42}, std::uint8_t{0xfe}}) {
    auto unknown = client->command(Bytes{code, 1, 2, 3});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), error_code::kUnknownCommand) << unknown.error().message();
  }
  // Replication commands go to the handler, whose default answer is the same clean ERR.
  auto dump = client->command(Bytes{command::kBinlogDump, 4, 0, 0, 0});
  ASSERT_FALSE(dump);
  EXPECT_EQ(dump.error().code(), error_code::kUnknownCommand);
  expect_served(*client);
}

TEST_F(ServerSessionTest, ResultSetsWithAndWithoutDeprecateEof) {
  start();
  for (bool deprecate_eof : {true, false}) {
    ClientOptions o = options();
    o.deprecate_eof = deprecate_eof;
    auto client = login(o);
    ASSERT_TRUE(client);
    EXPECT_EQ((client->async().capabilities() & capability::kDeprecateEof) != 0, deprecate_eof);
    auto rows = client->query_rows("SELECT both_ways");
    ASSERT_TRUE(rows) << rows.error().message();
    ASSERT_EQ(rows->columns.size(), 9u);
    EXPECT_EQ(rows->columns[0].name, "query");
    ASSERT_EQ(rows->rows.size(), 1u);
    EXPECT_EQ(rows->rows[0][0], "SELECT both_ways");
    EXPECT_FALSE(rows->rows[0][8].has_value());
    auto ok = client->query("SET @x = 1");
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_FALSE(ok->has_rows);
    auto failed = client->query("FAIL now");
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code(), 1064);
    EXPECT_EQ(client->async().last_server_error()->sql_state, "42000");
  }
}

TEST_F(ServerSessionTest, TruncatedHandshakeResponseGetsBadHandshake) {
  start();
  auto bystander = login();
  ASSERT_TRUE(bystander);
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.read_packet().has_value());  // greeting
  // Capabilities with PROTOCOL_41, then nothing of the rest.
  raw.send_packet(Bytes{0x00, 0x02, 0x08, 0x00, 0x00, 0x00}, 1);
  expect_err(raw.read_packet(), error_code::kHandshakeError);
  EXPECT_TRUE(raw.closed_by_server());
  expect_served(*bystander);
  EXPECT_TRUE(wait_for_sessions(1));
}

TEST_F(ServerSessionTest, OversizedPacketBeforeLoginIsRefusedFromItsHeader) {
  start();
  auto bystander = login();
  ASSERT_TRUE(bystander);
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.read_packet().has_value());
  // A header announcing 8 MiB; the body never comes. The server must not wait for (or allocate) it.
  raw.send(Bytes{0x00, 0x00, 0x80, 0x01});
  expect_err(raw.read_packet(), error_code::kNetPacketTooLarge);
  EXPECT_TRUE(raw.closed_by_server());
  expect_served(*bystander);
}

// Also a regression test: the server used to close right after its ERR while the client was still
// sending the rest of the packet; the kernel then reset the connection and the client saw
// "connection reset" instead of the ERR. The server now shuts down its side and lingers.
TEST_F(ServerSessionTest, OversizedPacketAfterLoginIsRefused) {
  ServerSettings settings;
  settings.max_packet = 1024 * 1024;
  start(settings);
  auto bystander = login();
  auto client = login();
  ASSERT_TRUE(client && bystander);
  auto big = client->query("SELECT '" + std::string(8 * 1024 * 1024, 'x') + "'");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), error_code::kNetPacketTooLarge) << big.error().message();
  expect_served(*bystander);
}

TEST_F(ServerSessionTest, GarbageGetsAnErrorOrAClose) {
  ServerSettings settings;
  settings.handshake_timeout = std::chrono::seconds(3);
  start(settings);
  auto bystander = login();
  ASSERT_TRUE(bystander);
  std::uint8_t ssl_sequence = 1;
  const std::vector<Bytes> garbage = {
      Bytes(64, 0xff),                                         // a header of 0xffffff: too large
      Bytes{0x05, 0x00, 0x00, 0x07, 'h', 'e', 'l', 'l', 'o'},  // wrong sequence id
      Bytes{0x03, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff},         // a response of three bytes
      encode_packet(encode_ssl_request({capability::kProtocol41, 0, 33}), ssl_sequence),  // no TLS is offered
      to_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),                                      // another protocol
  };
  for (const Bytes& bytes : garbage) {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.read_packet().has_value());
    raw.send(bytes);
    auto reply = raw.read_packet();
    if (reply) {
      EXPECT_TRUE(is_err_packet(reply->payload)) << to_hex(bytes);
    }
    EXPECT_TRUE(raw.closed_by_server(std::chrono::seconds(1))) << to_hex(bytes);
    expect_served(*bystander);
  }
  EXPECT_TRUE(wait_for_sessions(1));
}

TEST_F(ServerSessionTest, OutOfOrderPacketsAreRefused) {
  start();
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.read_packet().has_value());
  HandshakeResponse response;
  response.capabilities = capability::kProtocol41 | capability::kSecureConnection | capability::kPluginAuth;
  response.user = "app";
  response.auth_plugin_name = kNativePasswordPlugin;
  raw.send_packet(encode_handshake_response(response), 3);
  expect_err(raw.read_packet(), error_code::kNetPacketsOutOfOrder);
  EXPECT_TRUE(raw.closed_by_server());
}

TEST_F(ServerSessionTest, ClientThatNeverFinishesTheHandshakeIsDropped) {
  ServerSettings settings;
  settings.handshake_timeout = std::chrono::milliseconds(300);
  start(settings);
  auto bystander = login();
  ASSERT_TRUE(bystander);
  RawClient silent(server_->port());
  ASSERT_TRUE(silent.read_packet().has_value());
  RawClient half(server_->port());  // starts a packet and stalls
  ASSERT_TRUE(half.read_packet().has_value());
  half.send(Bytes{0x40, 0x00, 0x00, 0x01, 0x00, 0x02});
  EXPECT_TRUE(silent.closed_by_server(std::chrono::seconds(5)));
  EXPECT_TRUE(half.closed_by_server(std::chrono::seconds(5)));
  expect_served(*bystander);
  EXPECT_TRUE(wait_for_sessions(1));
}

TEST_F(ServerSessionTest, ClientThatDisconnectsMidPacketIsCleanedUp) {
  start();
  auto bystander = login();
  ASSERT_TRUE(bystander);
  for (int i = 0; i < 5; ++i) {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.read_packet().has_value());
    raw.send(Bytes{0x60, 0x00, 0x00, 0x01, 0x00, 0x02, 0x08});
    raw.close();
  }
  // Logged in, then vanishing in the middle of a command packet.
  {
    auto client = login();
    ASSERT_TRUE(client);
  }
  EXPECT_TRUE(wait_for_sessions(1));
  expect_served(*bystander);
}

TEST_F(ServerSessionTest, IdleSessionsAreClosed) {
  ServerSettings settings;
  settings.idle_timeout = std::chrono::milliseconds(300);
  start(settings);
  auto client = login();
  ASSERT_TRUE(client);
  expect_served(*client);
  // The server closes the idle session after 300 ms; the query after that finds the connection closed.
  ASSERT_TRUE(wait_for_sessions(0));
  auto late = client->query("SELECT late");
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message().find("closed the connection"), std::string::npos)
      << late.error().message();
  EXPECT_TRUE(wait_for_sessions(0));
  std::lock_guard lock(log_->mutex);
  ASSERT_EQ(log_->closed_reasons.size(), 1u);
  EXPECT_NE(log_->closed_reasons[0].find("idle"), std::string::npos) << log_->closed_reasons[0];
}

TEST_F(ServerSessionTest, SessionsCanBeEndedByConnectionId) {
  start();
  auto victim = login();
  auto bystander = login();
  ASSERT_TRUE(victim && bystander);
  const std::uint32_t id = victim->greeting().connection_id;
  const bool found = server_->call([id](MySqlServer& server) {
    ServerSession* session = server.find_session(id);
    if (session == nullptr) return false;
    session->close(make_error("killed by the test"));
    return true;
  });
  ASSERT_TRUE(found);
  EXPECT_TRUE(wait_for_sessions(1));
  auto after = victim->query("SELECT anything");
  ASSERT_FALSE(after);
  expect_served(*bystander);
  std::lock_guard lock(log_->mutex);
  ASSERT_EQ(log_->closed_reasons.size(), 1u);
  EXPECT_EQ(log_->closed_reasons[0], "killed by the test");
}

TEST_F(ServerSessionTest, QuitClosesCleanly) {
  start();
  {
    auto client = login();
    ASSERT_TRUE(client);
    client->close();
  }
  EXPECT_TRUE(wait_for_sessions(0));
  std::lock_guard lock(log_->mutex);
  ASSERT_EQ(log_->closed_reasons.size(), 1u);
  EXPECT_EQ(log_->closed_reasons[0], "ok");
}

TEST_F(ServerSessionTest, TooManySessionsGetError1040) {
  ServerSettings settings;
  settings.max_sessions = 2;
  start(settings);
  auto first = login();
  auto second = login();
  ASSERT_TRUE(first && second);
  auto third = BlockingClient::connect(options());
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code(), 1040) << third.error().message();
  expect_served(*first);
}

TEST_F(ServerSessionTest, AccountsAndCertificatesReloadForNewSessionsOnly) {
  ServerSettings settings;
  auto tls = TlsContext::server(tls_->certs().server_cert, tls_->certs().server_key);
  ASSERT_TRUE(tls) << tls.error().message();
  settings.tls = *tls;
  start(settings);
  ClientOptions verified = options();
  verified.tls_mode = TlsMode::kVerifyCa;
  auto before = login(verified);
  ASSERT_TRUE(before);

  // New certificates from another CA, and a new password.
  auto other_dir = testing::TempDir::create("net-session-reload");
  ASSERT_TRUE(other_dir);
  auto other = testing::generate_test_certificates(other_dir->path());
  ASSERT_TRUE(other) << other.error().message();
  auto reloaded = TlsContext::server(other->server_cert, other->server_key);
  ASSERT_TRUE(reloaded) << reloaded.error().message();
  server_->call([&](MySqlServer& server) {
    server.set_tls_context(*reloaded);
    server.set_accounts(accounts("new-secret"));
  });

  expect_served(*before);  // the old session keeps its TLS session and login
  ClientOptions old_ca = options("new-secret");
  old_ca.tls_mode = TlsMode::kVerifyCa;
  auto refused = BlockingClient::connect(old_ca);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("did not verify"), std::string::npos) << refused.error().message();
  ClientOptions new_ca = options("new-secret");
  new_ca.tls_mode = TlsMode::kVerifyCa;
  new_ca.tls_ca_file = other->ca_cert;
  auto after = login(new_ca);
  ASSERT_TRUE(after);
  auto old_password = BlockingClient::connect(options("secret"));
  ASSERT_FALSE(old_password);
  EXPECT_EQ(old_password.error().code(), 1045);
}

}  // namespace
}  // namespace brelay::net
