// Issue 14 item 4: the relay answers as its MariaDB source does. A real MariaDB 10.11 source writes a
// short history, the relay imports its binlogs, and each test asks both the same thing with a raw
// client (every packet as received) and compares the answers: the semi-sync variables and the
// dump's 0xEF prefix while semi-sync is off, Ssl_cipher / Ssl_version over TLS and without, the
// heartbeat type for a dump with flag 0x02 and no @mariadb_slave_capability, where the fake
// GTID_LIST goes for a start state with sequence 0, SHOW BINLOG EVENTS errors after the column
// definitions, and a dump from a position inside an event (fake ROTATE and FDE, then the error).
#include <gtest/gtest.h>

#include "common/byte_writer.h"
#include "net/mysql_constants.h"
#include "net/replication_commands.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/raw_mysql_client.h"
#include "tests/support/served_store.h"
#include "tests/support/test_certs.h"

namespace brelay::testing {
namespace {

constexpr std::uint8_t kHeartbeat = 27;
constexpr std::uint8_t kHeartbeatV2 = 41;

class SourceParity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tls = TlsTestDir::create("parity");
    ASSERT_TRUE(tls) << tls.error().message();
    tls_ = std::move(*tls);
    MariaDbOptions options;
    options.server_id = 1;
    options.gtid_domain_id = 0;
    options.tls = tls_->certs();
    auto source = MariaDbServer::start(options);
    ASSERT_TRUE(source) << source.error().message();
    source_ = std::move(*source);
    ASSERT_TRUE(
        source_->execute("CREATE USER repl@'%' IDENTIFIED BY 'replpw'; GRANT ALL ON *.* TO repl@'%';"
                         "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(20));"
                         "INSERT INTO d.t VALUES (1, 'one'); INSERT INTO d.t VALUES (2, 'two'); INSERT INTO "
                         "d.t VALUES (3, 'x');"));
    TestRelayConfig config;
    config.server_extra = fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"\n", tls_->certs().server_cert,
                                      tls_->certs().server_key);
    // The relay serves what the source wrote; the source goes on in a new file.
    auto served = serve_source_binlogs(*source_, first_file_, config);
    ASSERT_TRUE(served) << served.error().message();
    relay_ = std::make_unique<ServedStore>(std::move(*served));
  }
  static void TearDownTestSuite() {
    relay_.reset();
    source_.reset();
    tls_.reset();
  }

  static std::unique_ptr<RawMysqlClient> connect(std::uint16_t port) {
    auto client = RawMysqlClient::connect(port, "repl", "replpw");
    EXPECT_TRUE(client) << client.error().message();
    return client ? std::move(*client) : nullptr;
  }
  static std::uint16_t source_port() { return source_->port(); }
  static std::uint16_t relay_port() { return relay_->port; }

  static inline std::unique_ptr<TlsTestDir> tls_;
  static inline std::unique_ptr<MariaDbServer> source_;
  static inline std::unique_ptr<ServedStore> relay_;
  static inline std::string first_file_;
};

// One packet of a dump as text: "EOF", "ERR <code>", or the event's type, log_pos and flags with
// the packet's semi-sync prefix when it has one ("EF01 type=16 log_pos=... flags=0x0").
std::string describe_stream_packet(ByteView packet, bool with_message = false) {
  if (is_eof_packet(packet)) return "EOF";
  if (is_err_packet(packet)) {
    const RawError error = decode_raw_error(packet);
    return fmt::format("ERR {}{}", error.code, with_message ? " " + error.message : "");
  }
  std::string prefix;
  std::size_t at = 1;
  if (packet.size() > 3 && packet[1] == net::kSemiSyncIndicator) {
    prefix = fmt::format("EF{:02x} ", packet[2]);
    at = 3;
  }
  if (packet.size() < at + 19) return "short packet";
  const ByteView event = packet.subspan(at);
  const std::uint32_t log_pos =
      event[13] | (event[14] << 8) | (event[15] << 16) | (std::uint32_t{event[16]} << 24);
  const unsigned flags = event[17] | (event[18] << 8);
  return fmt::format("{}type={} log_pos={} flags=0x{:x}", prefix, event[4], log_pos, flags);
}

// Sets `variables`, sends COM_BINLOG_DUMP and reads until EOF, ERR, or `stop` says so (at most
// `limit` packets); each packet described.
std::vector<std::string> dump(RawMysqlClient& client, const std::vector<std::string>& variables,
                              const net::BinlogDump& command, std::size_t limit = 2000,
                              const std::function<bool(ByteView)>& stop = {}) {
  std::vector<std::string> described;
  for (const std::string& sql : variables) {
    auto reply = client.query_packets(sql);
    EXPECT_TRUE(reply && !is_err_packet(reply->back())) << sql;
  }
  EXPECT_TRUE(client.send_command(net::encode_binlog_dump(command)));
  while (described.size() < limit) {
    auto packet = client.read_packet();
    if (!packet) {
      ADD_FAILURE() << packet.error().message();
      break;
    }
    described.push_back(describe_stream_packet(*packet));
    if (is_eof_packet(*packet) || is_err_packet(*packet) || (stop && stop(*packet))) break;
  }
  return described;
}

net::BinlogDump dump_command(std::string file, std::uint64_t position, std::uint16_t flags,
                             std::uint32_t server_id) {
  net::BinlogDump command;
  command.file_name = std::move(file);
  command.position = static_cast<std::uint32_t>(position);
  command.flags = flags;
  command.server_id = server_id;
  return command;
}

// The relay serves the source's first file only; the source's stream goes on into its next file.
// The relay's stream up to its end must be the start of the source's.
void expect_relay_stream_starts_the_sources(std::vector<std::string> relay,
                                            const std::vector<std::string>& source) {
  ASSERT_FALSE(relay.empty());
  if (relay.back() == "EOF") relay.pop_back();
  ASSERT_GE(source.size(), relay.size());
  for (std::size_t i = 0; i < relay.size(); ++i)
    EXPECT_EQ(relay[i], source[i]) << "packet " << i;
}

TEST_F(SourceParity, SemiSyncMasterEnabledAnswersOffAsTheSourceWhenSemiSyncIsOff) {
  auto source = connect(source_port());
  auto relay = connect(relay_port());
  ASSERT_TRUE(source && relay);
  for (const std::string sql :
       {"SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'", "SELECT @@rpl_semi_sync_master_enabled",
        "SELECT @@global.rpl_semi_sync_master_enabled", "SHOW STATUS LIKE 'Rpl_semi_sync_master_status'"}) {
    auto expected = source->query_rows(sql);
    ASSERT_TRUE(expected) << expected.error().message();
    auto answered = relay->query_rows(sql);
    ASSERT_TRUE(answered) << answered.error().message();
    EXPECT_EQ(*answered, *expected) << sql;
  }
}

TEST_F(SourceParity, SemiSyncReplicaGetsNoAcknowledgementRequestsWhenSemiSyncIsOff) {
  const std::vector<std::string> variables = {
      "SET @master_binlog_checksum='CRC32'", "SET @mariadb_slave_capability=4", "SET @rpl_semi_sync_slave=1"};
  const auto command = dump_command(first_file_, 4, net::dump_flag::kNonBlock, 71);
  auto source = connect(source_port());
  auto relay = connect(relay_port());
  ASSERT_TRUE(source && relay);
  const auto expected = dump(*source, variables, command);
  const auto answered = dump(*relay, variables, command);
  expect_relay_stream_starts_the_sources(answered, expected);
  for (const std::string& packet : answered)
    EXPECT_FALSE(packet.starts_with("EF01")) << "an acknowledgement request: " << packet;
}

TEST_F(SourceParity, SslCipherAndVersionAnswerTheSessionsTls) {
  const std::string sql = "SHOW STATUS LIKE 'Ssl_cipher'; SHOW STATUS LIKE 'Ssl_version'";
  for (const std::vector<std::string>& tls :
       {std::vector<std::string>{"--ssl", "--ssl-ca=" + tls_->certs().ca_cert},
        std::vector<std::string>{"--ssl=0"}}) {
    auto expected = mariadb_sql(source_port(), "repl", "replpw", sql, tls);
    auto answered = mariadb_sql(relay_port(), "repl", "replpw", sql, tls);
    ASSERT_TRUE(expected && answered);
    ASSERT_EQ(expected->exit_status, 0) << expected->err;
    ASSERT_EQ(answered->exit_status, 0) << answered->err;
    const Rows expected_rows = parse_batch_output(expected->out);
    const Rows rows = parse_batch_output(answered->out);
    ASSERT_EQ(rows.size(), 2u) << answered->out;
    EXPECT_EQ(rows, expected_rows) << tls.front();
    if (tls.front() == "--ssl") {
      EXPECT_FALSE(rows[0][1].empty());
      EXPECT_TRUE(rows[1][1].starts_with("TLSv1")) << rows[1][1];
    }
  }
}

TEST_F(SourceParity, MariadbStreamWithFlag2AndNoCapabilityGetsHeartbeatType27) {
  const std::vector<std::string> variables = {"SET @master_binlog_checksum='CRC32'",
                                              "SET @master_heartbeat_period=200000000"};
  const auto command = dump_command(first_file_, 4, net::dump_flag::kHeartbeatV2OrAnnotateRows, 72);
  auto heartbeat_type = [&](std::uint16_t port) {
    auto client = connect(port);
    std::uint8_t type = 0;
    if (!client) return type;
    dump(*client, variables, command, 2000, [&](ByteView packet) {
      if (packet.size() > 5 && packet[0] == 0 && (packet[5] == kHeartbeat || packet[5] == kHeartbeatV2)) {
        type = packet[5];
        return true;
      }
      return false;
    });
    return type;
  };
  const std::uint8_t expected = heartbeat_type(source_port());
  EXPECT_EQ(expected, kHeartbeat);
  EXPECT_EQ(heartbeat_type(relay_port()), expected);
}

TEST_F(SourceParity, GtidStartStateWithSequenceZeroGetsTheFakeGtidListRightAfterTheGtidEvent) {
  const std::vector<std::string> variables = {
      "SET @master_binlog_checksum='CRC32'", "SET @mariadb_slave_capability=4",
      "SET @slave_connect_state='0-1-0'", "SET @slave_gtid_strict_mode=0",
      "SET @slave_gtid_ignore_duplicates=0"};
  const auto command = dump_command("", 4, net::dump_flag::kNonBlock, 73);
  auto source = connect(source_port());
  auto relay = connect(relay_port());
  ASSERT_TRUE(source && relay);
  const auto expected = dump(*source, variables, command);
  const auto answered = dump(*relay, variables, command);
  expect_relay_stream_starts_the_sources(answered, expected);
  // The artificial GTID_LIST (type 163, flag 0x20) follows the first GTID event (type 162).
  auto first_gtid = std::find_if(answered.begin(), answered.end(),
                                 [](const std::string& packet) { return packet.starts_with("type=162 "); });
  ASSERT_NE(first_gtid, answered.end());
  ASSERT_NE(first_gtid + 1, answered.end());
  EXPECT_TRUE((first_gtid + 1)->starts_with("type=163 ")) << *(first_gtid + 1);
}

// Packets of a reply as kinds: "columns N", "def" for each column definition, "EOF", "ERR code message".
std::vector<std::string> describe_reply(const std::vector<Bytes>& packets) {
  std::vector<std::string> described;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const Bytes& packet = packets[i];
    if (is_err_packet(packet)) {
      const RawError error = decode_raw_error(packet);
      described.push_back(fmt::format("ERR {} {}", error.code, error.message));
    } else if (is_eof_packet(packet)) {
      described.push_back("EOF");
    } else if (i == 0) {
      described.push_back(fmt::format("columns {}", packet.empty() ? 0 : packet[0]));
    } else {
      described.push_back("def");
    }
  }
  return described;
}

TEST_F(SourceParity, ShowBinlogEventsErrorsComeAfterTheColumnDefinitions) {
  auto source = connect(source_port());
  auto relay = connect(relay_port());
  ASSERT_TRUE(source && relay);
  for (const std::string& sql : {std::string("SHOW BINLOG EVENTS IN 'nosuch-bin.000001'"),
                                 "SHOW BINLOG EVENTS IN '" + first_file_ + "' FROM 5"}) {
    auto expected = source->query_packets(sql);
    auto answered = relay->query_packets(sql);
    ASSERT_TRUE(expected && answered);
    ASSERT_TRUE(is_err_packet(expected->back())) << sql;
    EXPECT_EQ(describe_reply(*answered), describe_reply(*expected)) << sql;
  }
}

TEST_F(SourceParity, DumpFromInsideAnEventGetsTheFakeRotateAndFdeBeforeTheError) {
  const std::vector<std::string> variables = {"SET @master_binlog_checksum='CRC32'",
                                              "SET @mariadb_slave_capability=4"};
  const auto command = dump_command(first_file_, 5, net::dump_flag::kNonBlock, 74);
  auto source = connect(source_port());
  auto relay = connect(relay_port());
  ASSERT_TRUE(source && relay);
  const auto expected = dump(*source, variables, command);
  const auto answered = dump(*relay, variables, command);
  ASSERT_GE(expected.size(), 3u);
  EXPECT_TRUE(expected.back().starts_with("ERR 1236")) << expected.back();
  EXPECT_EQ(answered, expected);
}

}  // namespace
}  // namespace brelay::testing
