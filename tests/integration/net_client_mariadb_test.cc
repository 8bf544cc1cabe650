// net/'s MySqlClient against a real mariadbd: mysql_native_password logins, plain and with TLS in
// verify_ca and verify_identity, queries with rows and NULLs, the server's ERR kept intact, wrong
// CA and wrong host name failing with errors that say so, packets over 16 MiB in both directions,
// and a binlog dump stream read with pauses (back-pressure).
#include <gtest/gtest.h>

#include "net/blocking_client.h"
#include "net/mysql_constants.h"
#include "net/replication_commands.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace brelay::net {
namespace {

using testing::MariaDbServer;

class NetClientMariaDbTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tls = testing::TlsTestDir::create("net-client-mariadb");
    ASSERT_TRUE(tls) << tls.error().message();
    tls_ = std::move(*tls);
    testing::MariaDbOptions options;
    options.tls = tls_->certs();
    auto server = MariaDbServer::start(options);
    ASSERT_TRUE(server) << server.error().message();
    server_ = server->release();
    ASSERT_TRUE(
        server_->execute("CREATE USER 'relay'@'%' IDENTIFIED BY 'relay-pass';"
                         "GRANT ALL PRIVILEGES ON *.* TO 'relay'@'%';"
                         "CREATE DATABASE shop;"
                         "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(32), note VARCHAR(32));"
                         "INSERT INTO shop.items VALUES (1, 'apple', NULL), (2, 'pear', 'ripe');"));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    tls_.reset();
  }

  static ClientOptions options(TlsMode mode = TlsMode::kDisabled) {
    ClientOptions o;
    o.host = "127.0.0.1";
    o.port = server_->port();
    o.user = "relay";
    o.password = "relay-pass";
    o.tls_mode = mode;
    o.tls_ca_file = tls_->certs().ca_cert;
    return o;
  }

  static inline std::unique_ptr<testing::TlsTestDir> tls_;
  static inline MariaDbServer* server_ = nullptr;
};

void expect_items(BlockingClient& client) {
  auto result = client.query_rows("SELECT id, name, note FROM shop.items ORDER BY id");
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_EQ(result->columns.size(), 3u);
  EXPECT_EQ(result->columns[1].name, "name");
  EXPECT_EQ(result->columns[0].type, ColumnType::kLong);
  ASSERT_EQ(result->rows.size(), 2u);
  EXPECT_EQ(result->rows[0], (TextRow{"1", "apple", std::nullopt}));
  EXPECT_EQ(result->rows[1], (TextRow{"2", "pear", "ripe"}));
}

TEST_F(NetClientMariaDbTest, NativePasswordWithoutTls) {
  auto client = BlockingClient::connect(options());
  ASSERT_TRUE(client) << client.error().message();
  EXPECT_EQ((*client)->async().auth_plugin(), "mysql_native_password");
  EXPECT_FALSE((*client)->async().tls());
  EXPECT_NE((*client)->greeting().server_version.find("MariaDB"), std::string::npos);
  EXPECT_GT((*client)->greeting().connection_id, 0u);
  expect_items(**client);
  auto ssl = (*client)->query_rows("SHOW SESSION STATUS LIKE 'Ssl_version'");
  ASSERT_TRUE(ssl) << ssl.error().message();
  EXPECT_EQ(ssl->rows.at(0).at(1), "");
}

TEST_F(NetClientMariaDbTest, TlsVerifyCaAndVerifyIdentity) {
  for (TlsMode mode : {TlsMode::kRequired, TlsMode::kVerifyCa, TlsMode::kVerifyIdentity}) {
    auto client = BlockingClient::connect(options(mode));
    ASSERT_TRUE(client) << tls_mode_name(mode) << ": " << client.error().message();
    EXPECT_TRUE((*client)->async().tls());
    expect_items(**client);
    auto ssl = (*client)->query_rows("SHOW SESSION STATUS LIKE 'Ssl_version'");
    ASSERT_TRUE(ssl) << ssl.error().message();
    EXPECT_TRUE(ssl->rows.at(0).at(1)->starts_with("TLSv1.")) << *ssl->rows.at(0).at(1);
  }
  // verify_identity by name: the certificate lists DNS:localhost.
  ClientOptions by_name = options(TlsMode::kVerifyIdentity);
  by_name.host = "localhost";
  auto client = BlockingClient::connect(by_name);
  ASSERT_TRUE(client) << client.error().message();
  expect_items(**client);
}

TEST_F(NetClientMariaDbTest, WrongCaFailsWithAnErrorThatSaysSo) {
  ClientOptions o = options(TlsMode::kVerifyCa);
  o.tls_ca_file = tls_->certs().other_ca_cert;
  auto client = BlockingClient::connect(o);
  ASSERT_FALSE(client);
  EXPECT_NE(client.error().message().find("certificate did not verify against the CA bundle " +
                                          tls_->certs().other_ca_cert),
            std::string::npos)
      << client.error().message();
}

TEST_F(NetClientMariaDbTest, WrongHostNameFailsWithAnErrorThatSaysSo) {
  // A second server whose certificate (from the right CA) names another host.
  auto issued =
      testing::issue_certificate(tls_->certs(), tls_->path(), "db.example.test", "DNS:db.example.test", 30);
  ASSERT_TRUE(issued) << issued.error().message();
  testing::TestCertificates other = tls_->certs();
  other.server_cert = issued->first;
  other.server_key = issued->second;
  testing::MariaDbOptions server_options;
  server_options.tls = other;
  server_options.log_bin = false;
  auto server = MariaDbServer::start(server_options);
  ASSERT_TRUE(server) << server.error().message();
  ASSERT_TRUE((*server)->execute("CREATE USER 'relay'@'%' IDENTIFIED BY 'relay-pass';"));
  ClientOptions o = options(TlsMode::kVerifyIdentity);
  o.port = (*server)->port();
  auto refused = BlockingClient::connect(o);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("does not match the host name '127.0.0.1'"), std::string::npos)
      << refused.error().message();
  // The chain itself is fine: verify_ca accepts it.
  o.tls_mode = TlsMode::kVerifyCa;
  auto accepted = BlockingClient::connect(o);
  ASSERT_TRUE(accepted) << accepted.error().message();
}

TEST_F(NetClientMariaDbTest, ServerErrorsKeepCodeAndSqlState) {
  auto client = BlockingClient::connect(options());
  ASSERT_TRUE(client) << client.error().message();
  auto missing = (*client)->query("SELECT * FROM shop.nothing_here");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), 1146);
  ASSERT_TRUE((*client)->async().last_server_error().has_value());
  EXPECT_EQ((*client)->async().last_server_error()->sql_state, "42S02");
  EXPECT_NE(missing.error().message().find("doesn't exist"), std::string::npos) << missing.error().message();
  // The connection stays usable after an ERR.
  expect_items(**client);
  auto ok = (*client)->query("UPDATE shop.items SET note = 'fresh' WHERE id = 1");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_FALSE(ok->has_rows);
  EXPECT_EQ(ok->ok.affected_rows, 1u);
  ASSERT_TRUE((*client)->query("UPDATE shop.items SET note = NULL WHERE id = 1"));
  // A wrong password is the server's 1045.
  ClientOptions wrong = options();
  wrong.password = "nope";
  auto denied = BlockingClient::connect(wrong);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), 1045);
}

TEST_F(NetClientMariaDbTest, PacketsOver16MiBInBothDirections) {
  auto client = BlockingClient::connect(options(TlsMode::kRequired));
  ASSERT_TRUE(client) << client.error().message();
  // A 20 MB query (split into 16 MiB chunks by the client) whose 20 MB result row comes back split too.
  const std::string big(20'000'000, 'x');
  auto result = (*client)->query_rows("SELECT LENGTH('" + big + "'), '" + big + "'");
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_EQ(result->rows.size(), 1u);
  EXPECT_EQ(result->rows[0][0], "20000000");
  EXPECT_EQ(result->rows[0][1], big);
}

class CollectingReceiver : public MySqlClient::StreamReceiver {
 public:
  void on_stream_packet(ByteView payload) override { packets.emplace_back(payload.begin(), payload.end()); }
  void on_stream_end(const Status& status) override {
    end = status;
    done = true;
  }
  std::vector<Bytes> packets;
  Status end;
  bool done = false;
};

TEST_F(NetClientMariaDbTest, BinlogDumpStreamWithBackPressure) {
  ASSERT_TRUE(
      server_->execute("CREATE TABLE shop.blobs (id INT PRIMARY KEY, data LONGBLOB);"
                       "INSERT INTO shop.blobs VALUES (1, REPEAT('b', 18000000));"
                       "INSERT INTO shop.items VALUES (3, 'plum', NULL);"));
  auto client = BlockingClient::connect(options());
  ASSERT_TRUE(client) << client.error().message();
  ASSERT_TRUE((*client)->query("SET @master_binlog_checksum = @@global.binlog_checksum"));
  ASSERT_TRUE((*client)->query("SET @mariadb_slave_capability = 4"));
  RegisterReplica registration;
  registration.server_id = 77;
  registration.host = "127.0.0.1";
  auto registered = (*client)->command(encode_register_replica(registration));
  ASSERT_TRUE(registered) << registered.error().message();

  CollectingReceiver receiver;
  BinlogDump dump;
  dump.position = 4;
  dump.flags = dump_flag::kNonBlock;
  dump.server_id = 77;
  dump.file_name = "mysql-bin.000001";
  MySqlClient& async = (*client)->async();
  async.start_stream(encode_binlog_dump(dump), &receiver);
  // Read with the stream paused now and then: nothing is lost or reordered.
  std::size_t paused_at = 0;
  while (!receiver.done) {
    uv_run((*client)->loop().raw(), UV_RUN_ONCE);
    if (receiver.packets.size() >= paused_at + 3 && !receiver.done) {
      paused_at = receiver.packets.size();
      async.pause_stream();
      for (int i = 0; i < 3; ++i)
        uv_run((*client)->loop().raw(), UV_RUN_NOWAIT);
      EXPECT_EQ(receiver.packets.size(), paused_at) << "no packet may arrive while the stream is paused";
      async.resume_stream();
    }
  }
  ASSERT_TRUE(receiver.end) << receiver.end.error().message();
  ASSERT_GE(receiver.packets.size(), 4u);
  // Every packet is 0x00 + an event whose header's size field matches; the first is the fake
  // ROTATE (type 4), then the FORMAT_DESCRIPTION (15).
  bool saw_big_event = false;
  for (const Bytes& packet : receiver.packets) {
    ASSERT_GE(packet.size(), 20u);
    EXPECT_EQ(packet[0], 0x00);
    const std::uint32_t size =
        packet[10] | packet[11] << 8 | packet[12] << 16 | std::uint32_t{packet[13]} << 24;
    EXPECT_EQ(size, packet.size() - 1);
    if (packet.size() > kMaxPacketChunk) saw_big_event = true;
  }
  EXPECT_EQ(receiver.packets[0][5], 4);
  EXPECT_EQ(receiver.packets[1][5], 15);
  EXPECT_TRUE(saw_big_event) << "the 18 MB row event must arrive joined from several packets";
  // The server ends the connection after a dump (as MySQL does); the client reports that cleanly.
  auto after = (*client)->query("SELECT 1");
  ASSERT_FALSE(after);
  EXPECT_NE(after.error().message().find("closed the connection"), std::string::npos)
      << after.error().message();
}

}  // namespace
}  // namespace brelay::net
