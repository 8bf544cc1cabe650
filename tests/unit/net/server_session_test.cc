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

#include <algorithm>
#include <mutex>
#include <thread>

#include "common/byte_writer.h"
#include "common/hex.h"
#include "net/blocking_client.h"
#include "net/ip_range.h"
#include "net/mysql_constants.h"
#include "net/mysql_server.h"
#include "net/packet_framer.h"
#include "tests/support/raw_mysql_client.h"
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

// Security review finding 1: a client that sends commands and never reads the answers makes the
// session stop reading once ServerSession::kMaxPendingReplyBytes wait for it, instead of buffering
// one answer after the other; once the client reads, the session goes on with the rest.
// Queries of ~60 KB answers each (RecordingHandler echoes the text), pipelined.
Bytes pipelined_queries(std::size_t count) {
  Bytes query{command::kQuery};
  const std::string sql = "SELECT " + std::string(60'000, 'x');
  query.insert(query.end(), sql.begin(), sql.end());
  Bytes stream;
  for (std::size_t i = 0; i < count; ++i) {
    std::uint8_t sequence_id = 0;
    const Bytes packet = encode_packet(query, sequence_id);
    stream.insert(stream.end(), packet.begin(), packet.end());
  }
  return stream;
}

// Sends `stream` (pipelined_queries(`queries`)) from `offset` on as the session takes it, and reads
// every answer: two EOFs each, after the columns and after the row (no DEPRECATE_EOF), with `pause`
// after each.
void read_every_answer(testing::RawMysqlClient& client, const Bytes& stream, std::size_t offset,
                       std::size_t queries, std::chrono::milliseconds pause = std::chrono::milliseconds(0)) {
  std::size_t eofs = 0;
  while (eofs < 2 * queries) {
    if (offset < stream.size()) {
      auto more = client.send_some(ByteView(stream).subspan(offset), std::chrono::milliseconds(0));
      ASSERT_TRUE(more) << more.error().message();
      offset += *more;
    }
    auto packet = client.read_packet();
    ASSERT_TRUE(packet) << packet.error().message() << " after " << eofs / 2 << " answers";
    if (testing::is_eof_packet(*packet)) {
      ++eofs;
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
  }
}

TEST_F(ServerSessionTest, AClientThatDoesNotReadItsAnswersIsNotReadEither) {
  start();
  auto client = testing::RawMysqlClient::connect(server_->port(), "app", "secret");
  ASSERT_TRUE(client) << client.error().message();
  constexpr std::size_t kQueries = 1000;
  const Bytes stream = pipelined_queries(kQueries);
  auto queries = [&] {
    std::lock_guard lock(log_->mutex);
    return log_->queries.size();
  };
  auto sent = (*client)->send_some(stream, std::chrono::seconds(1));
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_LT(*sent, stream.size()) << "the session kept reading commands whose answers nobody read";
  EXPECT_LT(queries(), kQueries);
  read_every_answer(**client, stream, *sent, kQueries);
  EXPECT_EQ(queries(), kQueries);
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

TEST_F(ServerSessionTest, AClientThatTakesNothingForTheWriteTimeoutIsDisconnected) {
  ServerSettings settings;
  settings.write_timeout = std::chrono::seconds(1);
  start(settings);
  // A reader that reads on, in small steps with pauses, is never cut.
  auto reader = testing::RawMysqlClient::connect(server_->port(), "app", "secret");
  auto stalled = testing::RawMysqlClient::connect(server_->port(), "app", "secret");
  ASSERT_TRUE(reader && stalled);
  constexpr std::size_t kQueries = 200;
  const Bytes stream = pipelined_queries(kQueries);
  auto sent = (*stalled)->send_some(stream, std::chrono::milliseconds(200));
  ASSERT_TRUE(sent) << sent.error().message();
  const auto started = std::chrono::steady_clock::now();
  read_every_answer(**reader, stream, 0, kQueries, std::chrono::milliseconds(12));
  EXPECT_GT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2))
      << "the reader must outlast two timeouts";
  // The stalled client read nothing: its session ended, the reader's did not.
  ASSERT_TRUE(testing::wait_until([&] { return session_count() == 1; }, std::chrono::seconds(10)));
  std::lock_guard lock(log_->mutex);
  ASSERT_EQ(log_->closed_reasons.size(), 1u);
  EXPECT_NE(log_->closed_reasons[0].find("net_write_timeout"), std::string::npos) << log_->closed_reasons[0];
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
  settings.max_connections = 2;
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

namespace brelay::net {
namespace {

// Connection limits, failed-login throttling and account restrictions (mysql_server.h).
class ConnectionLimitsTest : public ServerSessionTest {
 protected:
  struct Refusals {
    std::mutex mutex;
    std::vector<std::string> reasons;
  };

  // "app" (password "secret", the given limits) and "boss" (password "boss", may take the reserved
  // connection).
  void start_with(ServerSettings settings, Account app = Account::from_password("secret", "replica")) {
    auto store = std::make_shared<StaticAccountStore>();
    store->add("app", std::move(app));
    Account boss = Account::from_password("boss", "admin");
    boss.reserved_connection = true;
    store->add("boss", boss);
    settings.accounts = store;
    settings.on_login_refused = [refusals = refusals_](const LoginRefusalEvent& event) {
      std::lock_guard lock(refusals->mutex);
      refusals->reasons.emplace_back(login_refusal_name(event.reason));
    };
    start(std::move(settings));
  }
  ClientOptions as(const std::string& user, const std::string& password) const {
    ClientOptions o = options(password);
    o.user = user;
    return o;
  }
  std::vector<std::string> reasons() {
    std::lock_guard lock(refusals_->mutex);
    return refusals_->reasons;
  }

  std::shared_ptr<Refusals> refusals_ = std::make_shared<Refusals>();
};

TEST_F(ConnectionLimitsTest, MaxConnectionsKeepsOneSessionForReservedAccounts) {
  ServerSettings settings;
  settings.max_connections = 2;
  start_with(settings);
  auto first = login();
  auto second = login();
  ASSERT_TRUE(first && second);
  auto third = BlockingClient::connect(options());
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code(), error_code::kTooManyConnections) << third.error().message();
  auto admin = BlockingClient::connect(as("boss", "boss"));
  ASSERT_TRUE(admin) << admin.error().message();
  auto second_admin = BlockingClient::connect(as("boss", "boss"));
  ASSERT_FALSE(second_admin);
  EXPECT_EQ(second_admin.error().code(), error_code::kTooManyConnections);
  expect_served(*first);
  expect_served(**admin);
  // As in mysqld the admin's session counts like any other once in: with one normal session gone
  // there are still max_connections sessions.
  first.reset();
  EXPECT_TRUE(wait_for_sessions(2));
  EXPECT_FALSE(BlockingClient::connect(options()));
  admin->reset();
  EXPECT_TRUE(wait_for_sessions(1));
  EXPECT_TRUE(login());
  const std::vector<std::string> seen = reasons();
  EXPECT_EQ(std::count(seen.begin(), seen.end(), std::string("max_connections")), 3);
}

TEST_F(ConnectionLimitsTest, AccountLimitGetsError1226) {
  Account app = Account::from_password("secret", "replica");
  app.max_connections = 1;
  start_with(ServerSettings(), app);
  auto first = login();
  ASSERT_TRUE(first);
  auto second = BlockingClient::connect(options());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), error_code::kUserLimitReached);
  EXPECT_NE(second.error().message().find(
                "User 'app' has exceeded the 'max_user_connections' resource (current value: 1)"),
            std::string::npos)
      << second.error().message();
  EXPECT_TRUE(BlockingClient::connect(as("boss", "boss")));  // other accounts are not limited
  first.reset();
  EXPECT_TRUE(testing::wait_until([&] { return static_cast<bool>(BlockingClient::connect(options())); }));
}

TEST_F(ConnectionLimitsTest, SilentHandshakesDoNotLockOutALogin) {
  ServerSettings settings;
  settings.max_unauthenticated = 4;
  settings.max_connections = 2;
  start_with(settings);
  std::vector<std::unique_ptr<RawClient>> silent;
  for (int i = 0; i < 20; ++i) {
    silent.push_back(std::make_unique<RawClient>(server_->port()));
    ASSERT_TRUE(silent.back()->read_packet().has_value()) << i;  // the greeting
  }
  EXPECT_LE(server_->call([](MySqlServer& server) { return server.unauthenticated_count(); }), 4u);
  auto client = login();
  ASSERT_TRUE(client);
  expect_served(*client);
  // The silent ones do not count against max_connections: a second login still fits.
  EXPECT_TRUE(login());
  const std::vector<std::string> seen = reasons();
  EXPECT_GE(std::count(seen.begin(), seen.end(), std::string("unauthenticated_limit")), 16);
}

TEST_F(ConnectionLimitsTest, FailedLoginsBlockTheAddressUntilFlushHosts) {
  ServerSettings settings;
  settings.max_connect_errors = 3;
  start_with(settings);
  // A success resets the count.
  EXPECT_FALSE(BlockingClient::connect(options("wrong")));
  EXPECT_TRUE(login());
  EXPECT_EQ(server_->call([](MySqlServer& server) { return server.connect_errors().errors("127.0.0.1"); }),
            0u);
  for (int i = 0; i < 3; ++i) {
    auto wrong = BlockingClient::connect(i == 1 ? as("nobody", "x") : options("wrong"));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), error_code::kAccessDenied) << wrong.error().message();
  }
  for (const ClientOptions& o : {options("wrong"), options()}) {
    auto blocked = BlockingClient::connect(o);
    ASSERT_FALSE(blocked);
    EXPECT_EQ(blocked.error().code(), error_code::kHostIsBlocked);
    EXPECT_NE(blocked.error().message().find("Host '127.0.0.1' is blocked because of many connection errors; "
                                             "unblock with 'mysqladmin flush-hosts'"),
              std::string::npos)
        << blocked.error().message();
  }
  EXPECT_EQ(server_->call([](MySqlServer& server) { return server.flush_hosts(); }), 1u);
  EXPECT_TRUE(login());
  const std::vector<std::string> expected = {"bad_password", "bad_password", "unknown_account",
                                             "bad_password", "blocked",      "blocked"};
  EXPECT_EQ(reasons(), expected);
}

// A table full of blocked addresses forgets none of them: a new address is refused (1129) rather
// than counted in a blocked one's place, until FLUSH HOSTS.
TEST_F(ConnectionLimitsTest, ATableFullOfBlockedAddressesRefusesNewOnesInsteadOfForgetting) {
  ServerSettings settings;
  settings.max_connect_errors = 1;
  settings.connect_error_capacity = 1;
  start_with(settings);
  auto attacker = testing::RawMysqlClient::connect(server_->port(), "app", "wrong", "127.0.0.2");
  ASSERT_FALSE(attacker);
  EXPECT_EQ(attacker.error().code(), error_code::kAccessDenied) << attacker.error().message();
  for (const char* from : {"127.0.0.3", "127.0.0.2"}) {
    auto refused = testing::RawMysqlClient::connect(server_->port(), "app", "secret", from);
    ASSERT_FALSE(refused) << from;
    EXPECT_EQ(refused.error().code(), error_code::kHostIsBlocked)
        << from << ": " << refused.error().message();
  }
  EXPECT_EQ(server_->call([](MySqlServer& server) { return server.flush_hosts(); }), 1u);
  EXPECT_TRUE(testing::RawMysqlClient::connect(server_->port(), "app", "secret", "127.0.0.3"));
}

// Wrong passwords for one account spend its budget whatever the address: then even the right
// password is answered 1045 (no password checked), except from an address it logged in from before.
TEST_F(ConnectionLimitsTest, AnAccountsFailureBudgetThrottlesItsLoginsFromNewAddresses) {
  ServerSettings settings;
  settings.account_failure_burst = 2;
  settings.account_failure_refill = std::chrono::hours(1);
  start_with(settings);
  for (int i = 0; i < 2; ++i) {
    auto wrong = BlockingClient::connect(options("wrong"));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), error_code::kAccessDenied);
  }
  auto right = BlockingClient::connect(options());
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().code(), error_code::kAccessDenied) << right.error().message();
  EXPECT_NE(right.error().message().find("Access denied for user 'app'@'127.0.0.1' (using password: YES)"),
            std::string::npos)
      << right.error().message();
  EXPECT_TRUE(login(as("boss", "boss")));  // another account is not throttled
  // FLUSH HOSTS gives the budget back; 127.0.0.1 then logs in, and is trusted for the account.
  server_->call([](MySqlServer& server) { return server.flush_hosts(); });
  EXPECT_TRUE(login());
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(BlockingClient::connect(options("wrong")));
  EXPECT_TRUE(login());
  const std::vector<std::string> seen = reasons();
  const std::vector<std::string> expected = {"bad_password", "bad_password", "account_throttled",
                                             "bad_password", "bad_password", "bad_password"};
  EXPECT_EQ(seen, expected);
}

TEST_F(ConnectionLimitsTest, HostsAndRequireTlsAnswerAsForAnUnknownAccount) {
  Account app = Account::from_password("secret", "replica");
  app.hosts = {IpRange::parse("10.0.0.0/8").value(), IpRange::parse("2001:db8::/32").value()};
  ServerSettings settings;
  auto tls = TlsContext::server(tls_->certs().server_cert, tls_->certs().server_key);
  ASSERT_TRUE(tls) << tls.error().message();
  settings.tls = *tls;
  start_with(settings, app);
  auto elsewhere = BlockingClient::connect(options());
  ASSERT_FALSE(elsewhere);
  auto unknown = BlockingClient::connect(as("app2", "secret"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(elsewhere.error().code(), error_code::kAccessDenied);
  EXPECT_NE(
      elsewhere.error().message().find("Access denied for user 'app'@'127.0.0.1' (using password: YES)"),
      std::string::npos)
      << elsewhere.error().message();
  EXPECT_EQ(unknown.error().code(), error_code::kAccessDenied);

  // Allowed from loopback, but only over TLS.
  server_->call([](MySqlServer& server) {
    auto store = std::make_shared<StaticAccountStore>();
    Account local = Account::from_password("secret", "replica");
    local.hosts = {IpRange::parse("127.0.0.0/8").value(), IpRange::parse("::1").value()};
    local.require_tls = true;
    store->add("app", local);
    server.set_accounts(store);
    return 0;
  });
  auto plain = BlockingClient::connect(options());
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().code(), error_code::kAccessDenied) << plain.error().message();
  ClientOptions secure = options();
  secure.tls_mode = TlsMode::kVerifyCa;
  auto over_tls = BlockingClient::connect(secure);
  ASSERT_TRUE(over_tls) << over_tls.error().message();
  const std::vector<std::string> expected = {"host_not_allowed", "unknown_account", "tls_required"};
  EXPECT_EQ(reasons(), expected);
}

// A dual-stack listener reports an IPv4 client as ::ffff:a.b.c.d: IPv4 ranges still match it.
TEST_F(ConnectionLimitsTest, Ipv4RangesMatchMappedClientsOfADualStackListener) {
  auto store = std::make_shared<StaticAccountStore>();
  Account v4 = Account::from_password("secret", "replica");
  v4.hosts = {IpRange::parse("127.0.0.0/8").value()};
  store->add("v4", v4);
  Account v6 = Account::from_password("secret", "replica");
  v6.hosts = {IpRange::parse("::1").value()};
  store->add("v6", v6);
  Account elsewhere = Account::from_password("secret", "replica");
  elsewhere.hosts = {IpRange::parse("10.0.0.0/8").value()};
  store->add("elsewhere", elsewhere);
  ServerSettings settings;
  settings.accounts = store;
  auto log = std::make_shared<RecordingHandler::Log>();
  auto server = ThreadedMySqlServer::start(std::move(settings), RecordingHandler::factory(log), "[::]:0");
  if (!server) GTEST_SKIP() << "no IPv6 on this machine: " << server.error().message();
  auto connect = [&](const std::string& host, const std::string& user) {
    ClientOptions o;
    o.host = host;
    o.port = (*server)->port();
    o.user = user;
    o.password = "secret";
    o.tls_mode = TlsMode::kDisabled;
    return BlockingClient::connect(o);
  };
  auto mapped = connect("127.0.0.1", "v4");
  ASSERT_TRUE(mapped) << mapped.error().message();
  auto v6_client = connect("::1", "v6");
  ASSERT_TRUE(v6_client) << v6_client.error().message();
  auto v4_from_v6 = connect("::1", "v4");
  ASSERT_FALSE(v4_from_v6);
  EXPECT_EQ(v4_from_v6.error().code(), error_code::kAccessDenied);
  auto refused = connect("127.0.0.1", "elsewhere");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), error_code::kAccessDenied);
}

}  // namespace
}  // namespace brelay::net
