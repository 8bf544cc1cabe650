// Bad input against the real relay (TLS required, accounts of both roles): a plain connection, a
// wrong password, a replica account trying PURGE, dumps from a file the relay does not have, from a
// position inside an event, past the end, with a GTID set in bad binary form, and malformed
// commands each get the error a MySQL server gives, while a replica streaming over TLS the whole
// time keeps receiving heartbeats and other sessions keep working.
#include <gtest/gtest.h>

#include <signal.h>

#include "net/blocking_client.h"
#include "net/replication_commands.h"
#include "relay/binlog/event_types.h"
#include "tests/support/login_helpers.h"
#include "tests/support/mysql_replica_client.h"
#include "tests/support/served_store.h"
#include "tests/support/test_certs.h"

namespace brelay::testing {
namespace {

constexpr const char* kMysql80 = "apecloud-mysql80-gtid-zstd-compressed.000057";

class BadInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tls = testing::TlsTestDir::create("bad-input-certs");
    ASSERT_TRUE(tls) << tls.error().message();
    tls_ = std::move(*tls);
    TestRelayConfig config;
    config.server_extra = fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"\nrequire_tls = true\n",
                                      tls_->certs().server_cert, tls_->certs().server_key);
    auto served = serve_binlogs({test_binlog(kMysql80)}, config);
    ASSERT_TRUE(served) << served.error().message();
    served_ = new ServedStore(std::move(*served));
  }
  static void TearDownTestSuite() {
    delete served_;
    tls_.reset();
  }

  static net::ClientOptions tls_client(const std::string& user, const std::string& password) {
    return tls_login_options(served_->port, user, password, tls_->certs().ca_cert);
  }
  static MysqlReplicaOptions tls_replica() {
    return tls_replica_options(served_->port, "replpw", tls_->certs().ca_cert);
  }

  // Sends `command` on a fresh TLS session and returns the server's error.
  static Error command_error(Bytes command) {
    auto client = net::BlockingClient::connect(tls_client("repl", "replpw"));
    EXPECT_TRUE(client) << client.error().message();
    if (!client) return Error("no connection");
    EXPECT_TRUE((*client)->query("SET @master_binlog_checksum = 'CRC32'"));
    auto reply = (*client)->command(std::move(command));
    EXPECT_FALSE(reply) << "the relay accepted a bad command";
    return reply ? Error("accepted") : reply.error();
  }

  static inline std::unique_ptr<testing::TlsTestDir> tls_;
  static ServedStore* served_;
};

ServedStore* BadInput::served_ = nullptr;

TEST_F(BadInput, EachGetsTheServersErrorWhileAReplicaOverTlsStreamsOn) {
  // A replica over TLS (VERIFY_CA against the test CA), idle at the end, getting heartbeats.
  auto replica = MysqlReplicaClient::connect(tls_replica());
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->client().async().tls());
  ASSERT_TRUE((*replica)->dump_from(kMysql80, 4, net::dump_flag::kHeartbeatV2OrAnnotateRows));
  ASSERT_TRUE((*replica)->receive([&](const ReceivedEvent&) { return (*replica)->heartbeats() >= 1; }));

  // A plain connection while require_tls is set.
  auto plain = mariadb_sql(served_->port, "repl", "replpw", "SELECT 1", {"--skip-ssl"});
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->exit_status, 0);
  EXPECT_NE(plain->err.find("3159"), std::string::npos) << plain->err;
  EXPECT_NE(plain->err.find("Connections using insecure transport are prohibited while "
                            "--require_secure_transport=ON."),
            std::string::npos)
      << plain->err;

  // A wrong password.
  auto wrong = net::BlockingClient::connect(tls_client("repl", "not-the-password"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), 1045);
  EXPECT_NE(wrong.error().message().find("Access denied for user 'repl'"), std::string::npos)
      << wrong.error().message();

  // A replica account trying PURGE.
  {
    auto client = net::BlockingClient::connect(tls_client("repl", "replpw"));
    ASSERT_TRUE(client) << client.error().message();
    auto purge = (*client)->query(std::string("PURGE BINARY LOGS TO '") + kMysql80 + "'");
    ASSERT_FALSE(purge);
    EXPECT_EQ(purge.error().code(), 1227);
    EXPECT_EQ((*client)->async().last_server_error()->sql_state, "42000");
    EXPECT_EQ(
        (*client)->async().last_server_error()->message,
        "Access denied; you need (at least one of) the SUPER, BINLOG_ADMIN privilege(s) for this operation");
    auto before = (*client)->query("PURGE MASTER LOGS BEFORE '2030-01-01 00:00:00'");
    ASSERT_FALSE(before);
    EXPECT_EQ(before.error().code(), 1227);
    // The session goes on.
    auto still = (*client)->query_rows("SELECT @@server_id");
    ASSERT_TRUE(still) << still.error().message();
  }

  // Dumps the relay cannot serve.
  net::BinlogDump dump;
  dump.server_id = 555;
  dump.file_name = "no-such-file.000001";
  Error unknown = command_error(net::encode_binlog_dump(dump));
  EXPECT_EQ(unknown.code(), 1236);
  EXPECT_NE(unknown.message().find("Could not find first log file name in binary log index file"),
            std::string::npos)
      << unknown.message();

  dump.file_name = kMysql80;
  {
    // Inside the GTID event at 197: the fake ROTATE and the FDE first, then the error, as the
    // source sends them (issue 14 item 4).
    MysqlReplicaOptions inside_options = tls_replica();
    inside_options.heartbeat_period = MysqlReplicaOptions().heartbeat_period;
    // An identity of its own: a dump with the canary's would take the canary's place.
    inside_options.server_id = 102;
    inside_options.uuid = "a1b2c3d4-0000-4000-8000-000000000102";
    auto reader = MysqlReplicaClient::connect(inside_options);
    ASSERT_TRUE(reader) << reader.error().message();
    ASSERT_TRUE((*reader)->dump_from(kMysql80, 200));
    Status inside = (*reader)->receive_until_eof();
    ASSERT_FALSE(inside);
    EXPECT_EQ(inside.error().code(), 1236);
    EXPECT_NE(inside.error().message().find("bogus data in log event"), std::string::npos)
        << inside.error().message();
    EXPECT_NE(inside.error().message().find("inside an event"), std::string::npos)
        << inside.error().message();
    ASSERT_EQ((*reader)->events().size(), 2u);
    EXPECT_EQ((*reader)->events()[0].type, binlog::type_code(binlog::EventType::kRotate));
    EXPECT_EQ((*reader)->events()[1].type, binlog::type_code(binlog::EventType::kFormatDescription));
  }

  dump.position = 99'999;
  Error beyond = command_error(net::encode_binlog_dump(dump));
  EXPECT_EQ(beyond.code(), 1236);
  EXPECT_NE(beyond.message().find("Client requested source to start replication from position > file size"),
            std::string::npos)
      << beyond.message();

  net::BinlogDumpGtid gtid_dump;
  gtid_dump.server_id = 556;
  gtid_dump.flags = net::dump_flag::kHeartbeatV2OrAnnotateRows;
  gtid_dump.gtid_set = {1, 0, 0, 0, 0, 0, 0, 0, 0x76, 0xf3};  // one sid announced, 2 bytes of it
  Error malformed = command_error(net::encode_binlog_dump_gtid(gtid_dump));
  EXPECT_EQ(malformed.code(), 1773);
  EXPECT_NE(malformed.message().find("Malformed GTID set encoding."), std::string::npos)
      << malformed.message();

  Error cut = command_error(Bytes{0x12, 4, 0});  // COM_BINLOG_DUMP cut after two bytes
  EXPECT_EQ(cut.code(), 1835);

  // The replica streamed on through all of it, and new sessions work.
  const std::size_t heartbeats = (*replica)->heartbeats();
  Status streaming =
      (*replica)->receive([&](const ReceivedEvent&) { return (*replica)->heartbeats() >= heartbeats + 2; });
  ASSERT_TRUE(streaming) << streaming.error().message();
  auto fresh = net::BlockingClient::connect(tls_client("admin", "adminpw"));
  ASSERT_TRUE(fresh) << fresh.error().message();
  auto logs = (*fresh)->query_rows("SHOW BINARY LOGS");
  ASSERT_TRUE(logs) << logs.error().message();
  EXPECT_EQ(logs->rows.size(), 1u);
  EXPECT_TRUE(served_->relay->running());
}

TEST_F(BadInput, SighupReloadsAccountsWithoutDroppingReplicas) {
  auto replica = MysqlReplicaClient::connect(tls_replica());
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_from(kMysql80, 4, net::dump_flag::kHeartbeatV2OrAnnotateRows));
  ASSERT_TRUE((*replica)->receive([&](const ReceivedEvent&) { return (*replica)->heartbeats() >= 1; }));
  ASSERT_FALSE(net::BlockingClient::connect(tls_client("newcomer", "newpw")));

  // A broken configuration changes nothing.
  auto original = read_file(served_->relay->config_path());
  ASSERT_TRUE(original);
  ASSERT_TRUE(write_file(served_->relay->config_path(), *original + "\n[[users]]\nname = \"broken\"\n"));
  served_->relay->signal(SIGHUP);
  ASSERT_TRUE(served_->relay->wait_for_notification("READY=1", std::chrono::seconds(10)));
  ASSERT_TRUE(net::BlockingClient::connect(tls_client("repl", "replpw")));
  EXPECT_NE(served_->relay->log().find("SIGHUP: keeping the running configuration"), std::string::npos);

  // A new account works after the reload, and the replica never noticed.
  ASSERT_TRUE(
      write_file(served_->relay->config_path(),
                 *original + "\n[[users]]\nname = \"newcomer\"\npassword = \"newpw\"\nrole = \"replica\"\n"));
  served_->relay->signal(SIGHUP);
  ASSERT_TRUE(served_->relay->wait_for_notification("READY=1", std::chrono::seconds(10)));
  auto newcomer = net::BlockingClient::connect(tls_client("newcomer", "newpw"));
  ASSERT_TRUE(newcomer) << newcomer.error().message();
  const std::size_t heartbeats = (*replica)->heartbeats();
  Status streaming =
      (*replica)->receive([&](const ReceivedEvent&) { return (*replica)->heartbeats() >= heartbeats + 2; });
  ASSERT_TRUE(streaming) << streaming.error().message();
  ASSERT_TRUE(write_file(served_->relay->config_path(), *original));
}

}  // namespace
}  // namespace brelay::testing
