// The real relay serving stores imported from the MySQL 8.0 / 5.7 and MariaDB fixtures: a client
// that speaks as a MySQL 8.0 (or 5.7) replica IO thread and `mariadb-binlog
// --read-from-remote-server --raw` receive exactly the fixture's bytes, by file/position and by GTID
// set; GTID auto-positioning skips what the replica has and refuses what cannot be served with the
// servers' texts; and the statements of protocol.md sections 1 and 7 get the source's answers.
#include <gtest/gtest.h>

#include <filesystem>

#include "net/blocking_client.h"
#include "net/replication_commands.h"
#include "relay/binlog/event_header.h"
#include "tests/support/mysql_replica_client.h"
#include "tests/support/raw_mysql_client.h"
#include "tests/support/served_store.h"

namespace brelay::testing {
namespace {

constexpr const char* kMysql80 = "apecloud-mysql80-gtid-zstd-compressed.000057";
constexpr const char* kMysql57 = "apecloud-mysql57-gtid-row.000080";
constexpr const char* kMysql57NoChecksum = "shyiko-mysql57-row-checksum-none.binlog";
constexpr const char* kMariadb105 = "rust-mysql-common-mariadb105-gtid-row.000001";
constexpr const char* kMysql80Uuid = "76f3e7be-6720-11ed-9cad-0242ac110002";
constexpr const char* kMysql57Uuid = "58cf6502-63db-11ed-8079-0242ac110002";

Bytes fixture_bytes(const std::string& name) {
  auto text = read_file(test_binlog(name));
  EXPECT_TRUE(text) << text.error().message();
  Bytes bytes = text ? to_bytes(*text) : Bytes();
  // A file copied from a running server has IN_USE set in its FDE header; a master clears it when it
  // sends the FDE (the CRC is computed with it clear either way).
  if (bytes.size() > 4 + binlog::kEventHeaderSize) bytes[4 + binlog::kFlagsOffset] &= 0xfe;
  return bytes;
}

binlog::GtidSet gtids(const std::string& text) {
  auto set = binlog::GtidSet::parse(text);
  EXPECT_TRUE(set) << set.error().message();
  return set ? *set : binlog::GtidSet();
}

MysqlReplicaOptions replica_options(std::uint16_t port) {
  MysqlReplicaOptions options;
  options.port = port;
  options.user = "repl";
  options.password = "replpw";
  options.timeout = std::chrono::seconds(20);
  return options;
}

// Receives until the replica has everything of `file` up to `end`.
bool received_to(const MysqlReplicaClient& replica, const std::string& file, std::uint64_t end) {
  return replica.file() == file && replica.position() >= end;
}

class ServedFixtures : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* name : {kMysql80, kMysql57, kMysql57NoChecksum, kMariadb105}) {
      auto served = serve_binlogs({test_binlog(name)});
      ASSERT_TRUE(served) << name << ": " << served.error().message();
      served_.emplace(name, std::move(*served));
    }
  }
  static void TearDownTestSuite() { served_.clear(); }

  static std::uint16_t port(const std::string& name) { return served_.at(name).port; }
  static RelayProcess& relay(const std::string& name) { return *served_.at(name).relay; }

  static std::map<std::string, ServedStore> served_;
};

std::map<std::string, ServedStore> ServedFixtures::served_;

TEST_F(ServedFixtures, Mysql80ReplicaByPositionReceivesTheFixtureBytes) {
  const Bytes original = fixture_bytes(kMysql80);
  auto options = replica_options(port(kMysql80));
  options.heartbeat_period = std::chrono::milliseconds(200);
  auto replica = MysqlReplicaClient::connect(options);
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_from(kMysql80, 4, net::dump_flag::kHeartbeatV2OrAnnotateRows));
  Status received = (*replica)->receive(
      [&](const ReceivedEvent&) { return received_to(**replica, kMysql80, original.size()); });
  ASSERT_TRUE(received) << received.error().message();
  const ReceivedFile& file = (*replica)->files().at(kMysql80);
  EXPECT_EQ(file.first_position, 0u);
  EXPECT_TRUE(file.bytes == original)
      << file.bytes.size() << " bytes received, the fixture has " << original.size();
  // The stream opens with a fake ROTATE carrying a CRC (the replica announced CRC32) and the FDE.
  ASSERT_GE((*replica)->events().size(), 2u);
  EXPECT_EQ((*replica)->events()[0].type, binlog::type_code(binlog::EventType::kRotate));
  EXPECT_TRUE((*replica)->events()[0].artificial);
  EXPECT_EQ((*replica)->events()[1].type, binlog::type_code(binlog::EventType::kFormatDescription));

  // Idle at the end: heartbeats v2 (the replica sent flag 0x02), naming the file and its end.
  const std::size_t before = (*replica)->events().size();
  received = (*replica)->receive([&](const ReceivedEvent& event) {
    return event.type == binlog::type_code(binlog::EventType::kHeartbeatV2);
  });
  ASSERT_TRUE(received) << received.error().message();
  EXPECT_GT((*replica)->events().size(), before);
  EXPECT_EQ((*replica)->position(), original.size());
  EXPECT_GE((*replica)->heartbeats(), 1u);
}

// Issue 14 item 2: zongji's COM_BINLOG_DUMP names the file with a trailing zero byte; the servers cut
// the name at the first NUL (the relay answered 1236 "Could not find first log file name").
TEST_F(ServedFixtures, DumpFileNameWithTrailingZeroByteIsServed) {
  const Bytes original = fixture_bytes(kMysql80);
  auto replica = MysqlReplicaClient::connect(replica_options(port(kMysql80)));
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_from(std::string(kMysql80) + std::string(1, '\0'), 4));
  Status received = (*replica)->receive(
      [&](const ReceivedEvent&) { return received_to(**replica, kMysql80, original.size()); });
  ASSERT_TRUE(received) << received.error().message();
  EXPECT_TRUE((*replica)->files().at(kMysql80).bytes == original);
}

// Issue 14 item 4: a dump with @rpl_semi_sync_replica=1 got 0xEF headers that never asked for an
// acknowledgement; a mysqld without the semi-sync plugin sends no prefix.
TEST_F(ServedFixtures, SemiSyncReplicaGetsNoSemiSyncPrefixFromAMysqlSourceWithoutSemiSync) {
  auto client = RawMysqlClient::connect(port(kMysql80), "repl", "replpw");
  ASSERT_TRUE(client) << client.error().message();
  for (const char* sql :
       {"SET @source_binlog_checksum='CRC32'", "SET @rpl_semi_sync_replica=1, @rpl_semi_sync_slave=1"}) {
    auto reply = (*client)->query_packets(sql);
    ASSERT_TRUE(reply && !is_err_packet(reply->back())) << sql;
  }
  net::BinlogDump dump;
  dump.file_name = kMysql80;
  dump.position = 4;
  dump.flags = net::dump_flag::kNonBlock;
  dump.server_id = 81;
  ASSERT_TRUE((*client)->send_command(net::encode_binlog_dump(dump)));
  std::size_t events = 0;
  while (true) {
    auto packet = (*client)->read_packet();
    ASSERT_TRUE(packet) << packet.error().message();
    if (is_eof_packet(*packet)) break;
    ASSERT_FALSE(is_err_packet(*packet)) << decode_raw_error(*packet).message;
    ASSERT_GE(packet->size(), 2u);
    EXPECT_NE((*packet)[1], net::kSemiSyncIndicator) << "event " << events;
    ++events;
  }
  EXPECT_GT(events, 2u);
}

// protocol.md section 1 (MySQL 8.0 / 8.4 replica IO thread): each statement a MySQL 8.4 replica
// sends, in its order, and the answer it needs; then COM_REGISTER_SLAVE, the semi-sync probe (both
// variables 1193: async) and COM_BINLOG_DUMP_GTID with flag 0x02, whose idle stream has heartbeats
// v2 (type 41) naming the file and its end.
TEST_F(ServedFixtures, Mysql84ReplicaSequenceFromProtocolMdIsAnsweredStepByStep) {
  const std::string replica_uuid = "a1b2c3d4-0000-4000-8000-000000000184";
  auto client = RawMysqlClient::connect(port(kMysql80), "repl", "replpw");
  ASSERT_TRUE(client) << client.error().message();
  RawMysqlClient& replica = **client;
  // 1. The version starts with a digit and is >= 5.
  ASSERT_FALSE(replica.server_version().empty());
  EXPECT_GE(std::stoi(replica.server_version()), 5) << replica.server_version();
  auto rows = [&](const std::string& sql) {
    auto result = replica.query_rows(sql);
    EXPECT_TRUE(result) << sql << ": " << result.error().message();
    return result ? *result : std::vector<std::vector<std::string>>();
  };
  auto ok = [&](const std::string& sql) {
    auto reply = replica.query_packets(sql);
    ASSERT_TRUE(reply) << reply.error().message();
    ASSERT_EQ(reply->size(), 1u) << sql;
    EXPECT_EQ(reply->front()[0], 0x00) << sql << ": " << decode_raw_error(reply->front()).message;
  };
  auto error_code = [&](const std::string& sql) {
    auto reply = replica.query_packets(sql);
    EXPECT_TRUE(reply && is_err_packet(reply->back())) << sql;
    return reply && is_err_packet(reply->back()) ? decode_raw_error(reply->back()).code : 0;
  };
  // 2. SELECT UNIX_TIMESTAMP().
  EXPECT_EQ(rows("SELECT UNIX_TIMESTAMP()").size(), 1u);
  // 3. @@GLOBAL.SERVER_ID different from the replica's own.
  const auto server_id = rows("SELECT @@GLOBAL.SERVER_ID");
  ASSERT_EQ(server_id.size(), 1u);
  EXPECT_NE(server_id[0][0], "184");
  // 4. The heartbeat period in nanoseconds, both names.
  ok("SET @master_heartbeat_period = 100000000, @source_heartbeat_period = 100000000");
  // 5. The checksum negotiation; the SELECT must give one non-NULL NONE or CRC32.
  ok("SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = "
     "@@global.binlog_checksum");
  EXPECT_EQ(rows("SELECT @source_binlog_checksum"), (std::vector<std::vector<std::string>>{{"CRC32"}}));
  // 6. GTID_MODE ON for AUTO_POSITION=1.
  EXPECT_EQ(rows("SELECT @@GLOBAL.GTID_MODE"), (std::vector<std::vector<std::string>>{{"ON"}}));
  // 7. @@GLOBAL.SERVER_UUID different from the replica's.
  const auto uuid = rows("SELECT @@GLOBAL.SERVER_UUID");
  ASSERT_EQ(uuid.size(), 1u);
  EXPECT_EQ(uuid[0][0].size(), 36u);
  EXPECT_NE(uuid[0][0], replica_uuid);
  // 8. Its uuid, both names.
  ok("SET @slave_uuid = '" + replica_uuid + "', @replica_uuid = '" + replica_uuid + "'");
  // 9. COM_REGISTER_SLAVE.
  ASSERT_TRUE(replica.send_command(net::encode_register_replica({184, "127.0.0.1", "", "", 3306, 0, 0})));
  auto registered = replica.read_packet();
  ASSERT_TRUE(registered) << registered.error().message();
  EXPECT_EQ((*registered)[0], 0x00);
  // 10. Semi-sync (when enabled on the replica): both variables unknown means an async source.
  EXPECT_EQ(error_code("SELECT @@global.rpl_semi_sync_source_enabled"), 1193);
  EXPECT_EQ(error_code("SELECT @@global.rpl_semi_sync_master_enabled"), 1193);
  // 11. COM_BINLOG_DUMP_GTID, flag 0x02 (heartbeat v2), empty name, position 4, with every GTID.
  auto executed = binlog::GtidSet::parse(std::string(kMysql80Uuid) + ":1-13");
  ASSERT_TRUE(executed);
  net::BinlogDumpGtid dump;
  dump.flags = net::dump_flag::kHeartbeatV2OrAnnotateRows;
  dump.server_id = 184;
  dump.gtid_set = executed->encode();
  ASSERT_TRUE(replica.send_command(net::encode_binlog_dump_gtid(dump)));
  int heartbeats = 0;
  for (int packets = 0; packets < 200 && heartbeats < 2; ++packets) {
    auto packet = replica.read_packet();
    ASSERT_TRUE(packet) << packet.error().message();
    ASSERT_FALSE(is_err_packet(*packet)) << decode_raw_error(*packet).message;
    ASSERT_GT(packet->size(), 1u + binlog::kEventHeaderSize);
    const std::uint8_t type = (*packet)[1 + binlog::kTypeOffset];
    EXPECT_NE(type, binlog::type_code(binlog::EventType::kHeartbeat)) << "v1 heartbeat after flag 0x02";
    if (type != binlog::type_code(binlog::EventType::kHeartbeatV2)) continue;
    ++heartbeats;
    const std::string body(packet->begin() + 1 + binlog::kEventHeaderSize, packet->end());
    EXPECT_NE(body.find(kMysql80), std::string::npos) << "a heartbeat v2 names the file";
  }
  EXPECT_EQ(heartbeats, 2);
}

TEST_F(ServedFixtures, Mysql80ReplicaFromTheMiddleOfTheFileGetsTheRestAndAnFdeWithLogPosZero) {
  const Bytes original = fixture_bytes(kMysql80);
  auto replica = MysqlReplicaClient::connect(replica_options(port(kMysql80)));
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_from(kMysql80, 378, net::dump_flag::kHeartbeatV2OrAnnotateRows));
  Status received = (*replica)->receive(
      [&](const ReceivedEvent&) { return received_to(**replica, kMysql80, original.size()); });
  ASSERT_TRUE(received) << received.error().message();
  const ReceivedFile& file = (*replica)->files().at(kMysql80);
  EXPECT_EQ(file.first_position, 378u);
  EXPECT_TRUE(std::equal(file.bytes.begin(), file.bytes.end(), original.begin() + 378, original.end()));
  ASSERT_GE((*replica)->events().size(), 2u);
  EXPECT_EQ((*replica)->events()[1].type, binlog::type_code(binlog::EventType::kFormatDescription));
  EXPECT_TRUE((*replica)->events()[1].artificial) << "the FDE of a start past position 4 has log_pos 0";
}

TEST_F(ServedFixtures, Mysql80ReplicaByGtidSetSkipsTheTransactionsItHas) {
  const Bytes original = fixture_bytes(kMysql80);
  auto replica = MysqlReplicaClient::connect(replica_options(port(kMysql80)));
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_gtids(gtids(std::string(kMysql80Uuid) + ":1-12")));
  Status received = (*replica)->receive(
      [&](const ReceivedEvent&) { return received_to(**replica, kMysql80, original.size()); });
  ASSERT_TRUE(received) << received.error().message();
  const ReceivedFile& file = (*replica)->files().at(kMysql80);
  // FDE and PREVIOUS_GTIDS, then transactions 11 and 12 skipped (a heartbeat carries the replica
  // over them), then transaction 13 from position 651 on.
  ASSERT_EQ(file.holes.size(), 1u);
  EXPECT_EQ(file.holes[0], (std::pair<std::uint64_t, std::uint64_t>(197, 651)));
  EXPECT_TRUE(std::equal(file.bytes.begin() + 126, file.bytes.begin() + 197, original.begin() + 126));
  // The FDE's `created` is 0 since the dump skips the file's first transaction (MySQL's rule, so
  // that the replica keeps its temporary tables); everything else of it is the fixture's.
  constexpr std::size_t kCreated = 4 + binlog::kEventHeaderSize + 2 + 50;
  EXPECT_TRUE(std::equal(file.bytes.begin(), file.bytes.begin() + kCreated, original.begin()));
  EXPECT_EQ(
      file.bytes[kCreated] | file.bytes[kCreated + 1] | file.bytes[kCreated + 2] | file.bytes[kCreated + 3],
      0);
  EXPECT_TRUE(std::equal(file.bytes.begin() + 651, file.bytes.end(), original.begin() + 651, original.end()));
  EXPECT_GE((*replica)->heartbeats(), 1u);
}

TEST_F(ServedFixtures, Mysql80ReplicaWithEveryGtidWaitsAtTheEnd) {
  const Bytes original = fixture_bytes(kMysql80);
  auto options = replica_options(port(kMysql80));
  options.heartbeat_period = std::chrono::milliseconds(100);
  auto replica = MysqlReplicaClient::connect(options);
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_gtids(gtids(std::string(kMysql80Uuid) + ":1-13")));
  Status received = (*replica)->receive([&](const ReceivedEvent&) { return (*replica)->heartbeats() >= 2; });
  ASSERT_TRUE(received) << received.error().message();
  EXPECT_EQ((*replica)->position(), original.size());
  for (const ReceivedEvent& event : (*replica)->events()) {
    EXPECT_NE(event.type, binlog::type_code(binlog::EventType::kGtid))
        << "a transaction the replica has was sent";
  }
}

TEST_F(ServedFixtures, GtidReplicaMissingPurgedTransactionsGetsThePurgedError) {
  auto replica = MysqlReplicaClient::connect(replica_options(port(kMysql80)));
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_gtids(gtids(std::string(kMysql80Uuid) + ":1-5")));
  Status received = (*replica)->receive_until_eof();
  ASSERT_FALSE(received);
  EXPECT_EQ(received.error().code(), 1236);
  EXPECT_NE(received.error().message().find(
                "Cannot replicate because the source purged required binary logs. Replicate the missing "
                "transactions from elsewhere, or provision a new replica from backup."),
            std::string::npos)
      << received.error().message();
  EXPECT_NE(received.error().message().find("the missing transactions are '" + std::string(kMysql80Uuid) +
                                            ":6-10'"),
            std::string::npos)
      << received.error().message();
}

TEST_F(ServedFixtures, GtidReplicaAheadOfTheSourceGetsTheMoreGtidsError) {
  auto replica = MysqlReplicaClient::connect(replica_options(port(kMysql80)));
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_gtids(gtids(std::string(kMysql80Uuid) + ":1-20")));
  Status received = (*replica)->receive_until_eof();
  ASSERT_FALSE(received);
  EXPECT_EQ(received.error().code(), 1236);
  EXPECT_NE(received.error().message().find("Replica has more GTIDs than the source has, using the source's "
                                            "SERVER_UUID"),
            std::string::npos)
      << received.error().message();
}

TEST_F(ServedFixtures, Mysql57ReplicaByGtidSetReceivesTheWholeFixture) {
  const Bytes original = fixture_bytes(kMysql57);
  auto options = replica_options(port(kMysql57));
  options.mysql57 = true;
  auto replica = MysqlReplicaClient::connect(options);
  ASSERT_TRUE(replica) << replica.error().message();
  // The replica holds what the file's PREVIOUS_GTIDS says came before it.
  ASSERT_TRUE((*replica)->dump_gtids(gtids(std::string(kMysql57Uuid) + ":1-52")));
  Status received = (*replica)->receive(
      [&](const ReceivedEvent&) { return received_to(**replica, kMysql57, original.size()); });
  ASSERT_TRUE(received) << received.error().message();
  const ReceivedFile& file = (*replica)->files().at(kMysql57);
  EXPECT_TRUE(file.holes.empty());
  EXPECT_TRUE(file.bytes == original) << file.bytes.size() << " of " << original.size();
}

TEST_F(ServedFixtures, Mysql57ReplicaByGtidSetGetsOnlyWhatItLacks) {
  const Bytes original = fixture_bytes(kMysql57);
  auto options = replica_options(port(kMysql57));
  options.mysql57 = true;
  auto replica = MysqlReplicaClient::connect(options);
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_gtids(gtids(std::string(kMysql57Uuid) + ":1-60")));
  Status received = (*replica)->receive(
      [&](const ReceivedEvent&) { return received_to(**replica, kMysql57, original.size()); });
  ASSERT_TRUE(received) << received.error().message();
  const ReceivedFile& file = (*replica)->files().at(kMysql57);
  ASSERT_EQ(file.holes.size(), 1u);
  EXPECT_TRUE(
      std::equal(file.bytes.begin() + static_cast<std::ptrdiff_t>(file.holes[0].second), file.bytes.end(),
                 original.begin() + static_cast<std::ptrdiff_t>(file.holes[0].second), original.end()));
  int gtid_events = 0;
  for (const ReceivedEvent& event : (*replica)->events())
    if (event.type == binlog::type_code(binlog::EventType::kGtid)) ++gtid_events;
  EXPECT_EQ(gtid_events, 2) << "transactions 61 and 62";
}

TEST_F(ServedFixtures, Mysql57ReplicaByPositionOnABinlogWithoutChecksums) {
  const Bytes original = fixture_bytes(kMysql57NoChecksum);
  auto options = replica_options(port(kMysql57NoChecksum));
  options.mysql57 = true;
  auto replica = MysqlReplicaClient::connect(options);
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_from(kMysql57NoChecksum, 4));
  Status received = (*replica)->receive(
      [&](const ReceivedEvent&) { return received_to(**replica, kMysql57NoChecksum, original.size()); });
  ASSERT_TRUE(received) << received.error().message();
  EXPECT_TRUE((*replica)->files().at(kMysql57NoChecksum).bytes == original);
  // A GTID dump of a binlog without GTIDs: GTID_MODE is OFF, which 5.7 words its own way.
  auto gtid_replica = MysqlReplicaClient::connect(options);
  ASSERT_TRUE(gtid_replica) << gtid_replica.error().message();
  ASSERT_TRUE((*gtid_replica)->dump_gtids(binlog::GtidSet()));
  Status refused = (*gtid_replica)->receive_until_eof();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), 1236);
  EXPECT_NE(refused.error().message().find("Request to dump GTID when @@GLOBAL.GTID_MODE <> ON."),
            std::string::npos)
      << refused.error().message();
}

// `mariadb-binlog --read-from-remote-server --raw --to-last-log` writes each file it receives.
Bytes mariadb_binlog_raw(std::uint16_t port, const std::string& file, const std::string& out_dir) {
  std::vector<std::string> argv = mariadb_binlog_argv(port, "repl", "replpw");
  argv.insert(argv.end(), {"--raw", "--to-last-log", "--result-file=" + out_dir + "/", file});
  auto output = run_command(argv, {}, std::chrono::seconds(60));
  EXPECT_TRUE(output) << output.error().message();
  if (!output) return {};
  EXPECT_EQ(output->exit_status, 0) << output->err;
  auto text = read_file(out_dir + "/" + file);
  EXPECT_TRUE(text) << text.error().message();
  return text ? to_bytes(*text) : Bytes();
}

TEST_F(ServedFixtures, MariadbBinlogRawReceivesEachFixtureByteForByte) {
  auto dir = TempDir::create("mariadb-binlog-raw");
  ASSERT_TRUE(dir);
  for (const char* name : {kMysql80, kMysql57, kMysql57NoChecksum, kMariadb105}) {
    SCOPED_TRACE(name);
    const Bytes received = mariadb_binlog_raw(port(name), name, dir->path());
    EXPECT_TRUE(received == fixture_bytes(name))
        << received.size() << " bytes, the fixture has " << fixture_bytes(name).size();
  }
}

// One session, several statements: what a replica or CDC client asks, answered as the source would.
class SqlSession {
 public:
  explicit SqlSession(std::uint16_t port, const std::string& user = "repl",
                      const std::string& password = "replpw") {
    net::ClientOptions options;
    options.port = port;
    options.user = user;
    options.password = password;
    auto client = net::BlockingClient::connect(options);
    EXPECT_TRUE(client) << client.error().message();
    if (client) client_ = std::move(*client);
  }
  // The rows of a query (values, NULL as "NULL").
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    auto result = client_->query_rows(sql);
    EXPECT_TRUE(result) << sql << ": " << result.error().message();
    std::vector<std::vector<std::string>> out;
    if (!result) return out;
    for (const auto& row : result->rows) {
      std::vector<std::string> values;
      for (const auto& value : row)
        values.push_back(value.value_or("NULL"));
      out.push_back(std::move(values));
    }
    return out;
  }
  std::string value(const std::string& sql) {
    auto all = rows(sql);
    return all.empty() || all[0].empty() ? "<no row>" : all[0][0];
  }
  Result<net::QueryResult> query(const std::string& sql) { return client_->query(sql); }
  Result<net::ResultSet> result_set(const std::string& sql) { return client_->query_rows(sql); }

 private:
  std::unique_ptr<net::BlockingClient> client_;
};

TEST_F(ServedFixtures, AMysql80SourcesVariablesAndStatusAnswers) {
  SqlSession sql(port(kMysql80));
  EXPECT_EQ(sql.value("SELECT @@GLOBAL.SERVER_ID"), "4002");
  EXPECT_EQ(sql.value("SELECT @@server_uuid").size(), 36u);
  EXPECT_EQ(sql.value("SELECT VERSION()"), "8.0.31");
  EXPECT_EQ(sql.value("SELECT @@version"), "8.0.31");
  EXPECT_EQ(sql.value("SELECT @@GLOBAL.GTID_MODE"), "ON");
  EXPECT_EQ(sql.value("SELECT @@enforce_gtid_consistency"), "ON");
  EXPECT_EQ(sql.value("SELECT @@gtid_executed"), std::string(kMysql80Uuid) + ":1-13");
  EXPECT_EQ(sql.value("SELECT @@GLOBAL.gtid_purged"), std::string(kMysql80Uuid) + ":1-10");
  EXPECT_EQ(sql.value("select @@global.binlog_checksum"), "CRC32");
  EXPECT_EQ(sql.value("SELECT @@log_bin"), "1");
  EXPECT_EQ(sql.value("select @@version_comment limit 1"), "binlog-relay");
  const std::string now = sql.value("SELECT UNIX_TIMESTAMP()");
  EXPECT_NEAR(std::stoll(now), static_cast<long long>(std::time(nullptr)), 60);
  // User variables: SET with and without spaces, @@ on the right-hand side, SELECT back.
  ASSERT_TRUE(
      sql.query("SET @master_binlog_checksum= @@global.binlog_checksum, "
                "@source_binlog_checksum=@@global.binlog_checksum"));
  EXPECT_EQ(sql.value("SELECT @source_binlog_checksum"), "CRC32");
  EXPECT_EQ(sql.value("SELECT @master_binlog_checksum"), "CRC32");
  ASSERT_TRUE(
      sql.query("SET @master_heartbeat_period = 30000000000, @source_heartbeat_period = 30000000000"));
  EXPECT_EQ(sql.value("SELECT @master_heartbeat_period"), "30000000000");
  EXPECT_EQ(sql.value("SELECT @never_set"), "NULL");
  ASSERT_TRUE(sql.query("SET @mariadb_slave_capability=4"));
  ASSERT_TRUE(sql.query("SET NAMES utf8mb4"));
  ASSERT_TRUE(sql.query("SET net_write_timeout = 600"));
  // A MariaDB-only variable is unknown on a MySQL source.
  auto domain = sql.query("SELECT @@GLOBAL.gtid_domain_id");
  ASSERT_FALSE(domain);
  EXPECT_EQ(domain.error().code(), 1193);
  EXPECT_NE(domain.error().message().find("Unknown system variable 'gtid_domain_id'"), std::string::npos);

  auto variables = sql.rows("SHOW GLOBAL VARIABLES LIKE 'binlog_%'");
  std::map<std::string, std::string> by_name;
  for (const auto& row : variables)
    by_name[row[0]] = row[1];
  EXPECT_EQ(by_name["binlog_checksum"], "CRC32");
  EXPECT_EQ(by_name["binlog_format"], "ROW");
  EXPECT_EQ(by_name["binlog_row_image"], "FULL");
  // Issue 14 item 4: without semi-sync ([source] semi_sync off) the relay answers as a mysqld without
  // the semi-sync plugin (protocol.md section 1: both variables 1193 = async).
  EXPECT_EQ(sql.rows("SHOW VARIABLES WHERE Variable_name IN ('rpl_semi_sync_master_enabled', "
                     "'rpl_semi_sync_source_enabled')")
                .size(),
            0u);
  for (const char* name : {"rpl_semi_sync_source_enabled", "rpl_semi_sync_master_enabled"}) {
    auto semi_sync = sql.query(std::string("SELECT @@global.") + name);
    ASSERT_FALSE(semi_sync) << name;
    EXPECT_EQ(semi_sync.error().code(), 1193) << name;
  }
  EXPECT_TRUE(sql.rows("SHOW STATUS LIKE 'Rpl_semi_sync_master_status'").empty());
  EXPECT_EQ(sql.rows("SHOW GLOBAL VARIABLES LIKE 'SERVER_ID'"),
            (std::vector<std::vector<std::string>>{{"server_id", "4002"}}));
  EXPECT_EQ(sql.rows("show global variables where variable_name = 'gtid_purged'")[0][1],
            std::string(kMysql80Uuid) + ":1-10");

  const auto status = sql.rows("SHOW MASTER STATUS");
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0],
            (std::vector<std::string>{kMysql80, "1283", "", "", std::string(kMysql80Uuid) + ":1-13"}));
  EXPECT_EQ(sql.rows("SHOW BINARY LOG STATUS"), status);
  EXPECT_EQ(sql.rows("SHOW BINARY LOGS"), (std::vector<std::vector<std::string>>{{kMysql80, "1283", "No"}}));
  const auto events = sql.rows(std::string("SHOW BINLOG EVENTS IN '") + kMysql80 + "' FROM 197 LIMIT 2");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0],
            (std::vector<std::string>{kMysql80, "197", "Gtid", "1", "274",
                                      "SET @@SESSION.GTID_NEXT= '" + std::string(kMysql80Uuid) + ":11'"}));
  EXPECT_EQ(events[1][2], "Query");
  EXPECT_EQ(sql.rows("SHOW BINLOG EVENTS LIMIT 1, 1")[0][1], "126");
  auto bad_position = sql.query(std::string("SHOW BINLOG EVENTS IN '") + kMysql80 + "' FROM 200");
  ASSERT_FALSE(bad_position);
  EXPECT_EQ(bad_position.error().code(), 1220);
  auto grants = sql.rows("SHOW GRANTS FOR CURRENT_USER");
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0][0], "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl`@`%`");
}

TEST_F(ServedFixtures, AnythingElseGetsACleanErrorAndTheSessionGoesOn) {
  SqlSession sql(port(kMysql80));
  for (const std::string statement :
       {"SELECT * FROM mysql.user", "CREATE TABLE t (a INT)", "SELECT 1 +", "SHOW PROCESSLIST",
        "SELECT no_such_function()", "SET GLOBAL read_only = 0", "INSERT INTO t VALUES (1)",
        "SELECT 'unterminated"}) {
    SCOPED_TRACE(statement);
    auto result = sql.query(statement);
    ASSERT_FALSE(result);
    EXPECT_GT(result.error().code(), 0) << result.error().message();
    EXPECT_EQ(sql.value("SELECT 1"), "1") << "the session must go on";
  }
  auto empty = sql.query("  /* nothing */ ");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), 1065);
}

TEST_F(ServedFixtures, RegisteredReplicasAreListedAndKillEndsASession) {
  auto replica = MysqlReplicaClient::connect(replica_options(port(kMysql80)));
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->dump_from(kMysql80, 4, 0));
  ASSERT_TRUE(
      (*replica)->receive([&](const ReceivedEvent&) { return received_to(**replica, kMysql80, 1283); }));
  SqlSession sql(port(kMysql80));
  const auto replicas = sql.rows("SHOW REPLICAS");
  ASSERT_EQ(replicas.size(), 1u);
  EXPECT_EQ(replicas[0], (std::vector<std::string>{"101", "replica.test", "3306", "0",
                                                   "a1b2c3d4-0000-4000-8000-000000000101"}));
  EXPECT_EQ(sql.rows("SHOW SLAVE HOSTS"), replicas);
  const std::string replica_connection = std::to_string((*replica)->client().greeting().connection_id);
  auto unknown = sql.query("KILL 999999");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), 1094);
  ASSERT_TRUE(sql.query("KILL " + replica_connection));
  Status ended = (*replica)->receive_until_eof();
  EXPECT_FALSE(ended) << "the killed dump's connection closes";
  EXPECT_TRUE(sql.rows("SHOW REPLICAS").empty());
}

TEST_F(ServedFixtures, AMariadbSourceGreetsAsMariadbAndAnswersItsGtidVariables) {
  SqlSession sql(port(kMariadb105));
  EXPECT_EQ(sql.value("SELECT VERSION()").rfind("10.5.15-MariaDB", 0), 0u);
  EXPECT_EQ(sql.value("SELECT @@GLOBAL.gtid_domain_id"), "0");
  EXPECT_EQ(sql.value("SELECT @@gtid_binlog_pos"), "0-1-2");
  EXPECT_EQ(sql.value("SELECT @@GLOBAL.gtid_current_pos"), "0-1-2");
  EXPECT_EQ(sql.value(std::string("SELECT BINLOG_GTID_POS('") + kMariadb105 + "', 4)"), "");
  auto gtid_mode = sql.query("SELECT @@GLOBAL.GTID_MODE");
  ASSERT_FALSE(gtid_mode);
  EXPECT_EQ(gtid_mode.error().code(), 1193) << "a MySQL replica reads that as GTID_MODE = OFF";
  const auto status = sql.rows("SHOW BINLOG STATUS");
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].size(), 4u) << "MariaDB has no Executed_Gtid_Set column";
  EXPECT_EQ(sql.rows("SHOW BINARY LOGS")[0].size(), 2u);
}

}  // namespace
}  // namespace brelay::testing
