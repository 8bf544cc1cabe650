// SHOW BINLOG EVENTS of a large file, answered in parts (BinlogEventsStream). A real MariaDB 10.11
// source writes one transaction of 60,000 row inserts: a file of 180,014 events (an ANNOTATE_ROWS,
// a TABLE_MAP and a WRITE_ROWS per insert), more than the 100,000 rows the relay's answer used to
// stop at. The relay imports the file, and both are asked the same statements with a raw client
// that keeps every packet as received: the relay's rows must be the source's, packet for packet
// (the column definitions' attributes differ), and mysql2's prepared statement must read the same
// rows. Readers that do not read their answers must not
// make the relay hold the file's rows, and the relay keeps answering others meanwhile.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "net/mysql_constants.h"
#include "net/mysql_packets.h"
#include "net/replication_commands.h"
#include "tests/support/login_helpers.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/raw_mysql_client.h"
#include "tests/support/served_store.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

constexpr int kInserts = 60'000;

class LargeFileListing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    MariaDbOptions options;
    options.server_id = 1;
    options.gtid_domain_id = 0;
    auto source = MariaDbServer::start(options);
    ASSERT_TRUE(source) << source.error().message();
    source_ = std::move(*source);
    ASSERT_TRUE(
        source_->execute("CREATE USER repl@'%' IDENTIFIED BY 'replpw'; GRANT ALL ON *.* TO repl@'%';"
                         "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY) ENGINE=InnoDB;"));
    // One transaction: a TABLE_MAP and a WRITE_ROWS event per insert.
    std::string inserts = "BEGIN;\n";
    for (int i = 1; i <= kInserts; ++i)
      inserts += fmt::format("INSERT INTO d.t VALUES ({});\n", i);
    inserts += "COMMIT;\n";
    ASSERT_TRUE(source_->execute(inserts));
    auto served = serve_source_binlogs(*source_, file_);
    ASSERT_TRUE(served) << served.error().message();
    relay_ = std::make_unique<ServedStore>(std::move(*served));
  }
  static void TearDownTestSuite() {
    relay_.reset();
    source_.reset();
  }

  static std::unique_ptr<RawMysqlClient> connect(std::uint16_t port) {
    auto client = RawMysqlClient::connect(port, "repl", "replpw");
    EXPECT_TRUE(client) << client.error().message();
    return client ? std::move(*client) : nullptr;
  }

  static inline std::unique_ptr<MariaDbServer> source_;
  static inline std::unique_ptr<ServedStore> relay_;
  static inline std::string file_;
};

// How many packets of a text result set come before its rows: column count, definitions, EOF.
std::size_t metadata_packets(const std::vector<Bytes>& packets) {
  return packets.empty() ? 0 : packets.front().at(0) + 2U;
}

// The rows of a text result set's packets (column count, definitions, EOF, rows, EOF).
std::size_t row_count(const std::vector<Bytes>& packets) {
  if (packets.empty() || net::is_err_packet(packets.back())) return 0;
  return packets.size() - metadata_packets(packets) - 1;
}

// The first packet after the column definitions (whose attributes differ between the relay and
// MariaDB) where `answered` and `expected` differ, as text ("" when they are the same).
std::string first_difference(const std::vector<Bytes>& answered, const std::vector<Bytes>& expected) {
  for (std::size_t i = metadata_packets(expected); i < std::min(answered.size(), expected.size()); ++i) {
    if (answered[i] != expected[i])
      return fmt::format("packet {}: relay [{}] source [{}]", i, as_text(answered[i]), as_text(expected[i]));
  }
  if (answered.size() != expected.size())
    return fmt::format("{} packets from the relay, {} from the source", answered.size(), expected.size());
  return "";
}

TEST_F(LargeFileListing, EveryEventOfAWholeLargeFileIsListedAsTheSourceListsIt) {
  auto source = connect(source_->port());
  auto relay = connect(relay_->port);
  ASSERT_TRUE(source && relay);
  for (const std::string& sql : {fmt::format("SHOW BINLOG EVENTS IN '{}'", file_),
                                 fmt::format("SHOW BINLOG EVENTS IN '{}' LIMIT 119990, 50", file_),
                                 fmt::format("SHOW BINLOG EVENTS IN '{}' LIMIT 100000, 1", file_),
                                 fmt::format("SHOW BINLOG EVENTS IN '{}' FROM 4 LIMIT 3", file_)}) {
    auto expected = source->query_packets(sql);
    auto answered = relay->query_packets(sql);
    ASSERT_TRUE(expected && answered) << sql;
    EXPECT_EQ(first_difference(*answered, *expected), "") << sql;
    std::printf("%s: %zu rows from the source, %zu from the relay\n", sql.c_str(), row_count(*expected),
                row_count(*answered));
    if (sql.find("LIMIT") == std::string::npos) {
      EXPECT_GT(row_count(*answered), 2U * kInserts);
    }
  }
  // No rows, as SELECT ... LIMIT 0 (MariaDB 10.11 lists the first event: its loop checks the count
  // after sending).
  auto none = relay->query_packets(fmt::format("SHOW BINLOG EVENTS IN '{}' LIMIT 0", file_));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->size(), metadata_packets(*none) + 1);
  EXPECT_TRUE(net::is_result_set_end(none->back()));
}

// As a prepared statement (mysql2's execute(): COM_STMT_EXECUTE, binary rows), every row too.
TEST_F(LargeFileListing, APreparedStatementReadsEveryRowAsFromTheSource) {
  const std::string sql = fmt::format("SHOW BINLOG EVENTS IN '{}'", file_);
  auto digest = [&](std::uint16_t port) {
    auto output = run_command({"node", node_dir() + "/prepared_statements.js", "127.0.0.1",
                               std::to_string(port), "repl", "replpw", "digest", sql},
                              {}, std::chrono::seconds(120));
    EXPECT_TRUE(output) << output.error().message();
    return output ? output->out + output->err : std::string();
  };
  const std::string from_source = digest(source_->port());
  const std::string from_relay = digest(relay_->port);
  EXPECT_EQ(from_relay, from_source);
  EXPECT_EQ(from_source.rfind(fmt::format("ROWS\t{}\t", 3 * kInserts + 14), 0), 0U) << from_source;
}

// Twenty sessions ask for the whole file and read nothing: the relay holds about one part of each
// answer, not the file's rows, and answers a twenty-first session at once. Ten of them then leave
// mid-answer, and the other ten read theirs whole.
TEST_F(LargeFileListing, ReadersThatDoNotReadHoldTheRelayToAboutOnePartEach) {
  constexpr int kReaders = 20;
  const pid_t pid = relay_->relay->pid();
  const std::size_t anon_before = status_kib(pid, "RssAnon");
  const std::string sql = fmt::format("SHOW BINLOG EVENTS IN '{}'", file_);
  std::vector<std::unique_ptr<RawMysqlClient>> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.push_back(connect(relay_->port));
    ASSERT_TRUE(readers.back());
    ASSERT_TRUE(readers.back()->send_query(sql));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const std::size_t anon_held = status_kib(pid, "RssAnon");
  auto other = connect(relay_->port);
  ASSERT_TRUE(other);
  const auto asked = std::chrono::steady_clock::now();
  auto answer = other->query_rows("SELECT 1");
  ASSERT_TRUE(answer) << answer.error().message();
  std::printf("relay RssAnon %zu KiB before, %zu KiB with %d answers unread; SELECT 1 meanwhile: %lld us\n",
              anon_before, anon_held, kReaders,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - asked)
                                         .count()));
  // Held whole, 20 answers of 120,000 rows would take hundreds of MiB.
  EXPECT_LT(anon_held, anon_before + 16 * 1024) << "KiB";

  // Half of them leave without reading the rest of their answer; the relay goes on with the others.
  readers.resize(kReaders / 2);
  auto still = other->query_rows("SELECT 2");
  ASSERT_TRUE(still) << still.error().message();
  auto source = connect(source_->port());
  ASSERT_TRUE(source);
  auto expected = source->query_packets(sql);
  ASSERT_TRUE(expected);
  for (auto& reader : readers) {
    std::size_t packets = 0;
    std::size_t different = 0;
    for (;;) {
      auto packet = reader->read_packet();
      ASSERT_TRUE(packet) << packet.error().message() << " after " << packets << " packets";
      if (packets >= metadata_packets(*expected) && packets < expected->size() &&
          *packet != (*expected)[packets])
        ++different;
      ++packets;
      if (packets > 8 && net::is_result_set_end(*packet)) break;
      ASSERT_FALSE(net::is_err_packet(*packet)) << as_text(*packet);
    }
    EXPECT_EQ(packets, expected->size());
    EXPECT_EQ(different, 0U);
  }
}

// Clients that leave mid-answer (unread rows in their socket: the relay's next write meets a
// reset) free their sessions: none is left waiting for a reply it can no longer send.
TEST_F(LargeFileListing, ClientsThatLeaveMidAnswerFreeTheirSessions) {
  auto asking = connect(relay_->port);
  ASSERT_TRUE(asking);
  auto connected = [&] {
    auto rows = asking->query_rows("SHOW STATUS LIKE 'Threads_connected'");
    return rows && rows->size() == 1 ? rows->front().back() : std::string("?");
  };
  const std::string alone = connected();
  const std::string sql = fmt::format("SHOW BINLOG EVENTS IN '{}'", file_);
  for (std::size_t i = 0; i < 10; ++i) {
    auto leaving = connect(relay_->port);
    ASSERT_TRUE(leaving && leaving->send_query(sql));
    for (std::size_t read = 0; read < 1 + i * 1999; ++read)
      ASSERT_TRUE(leaving->read_packet());
  }  // each closes here
  EXPECT_TRUE(wait_until([&] { return connected() == alone; }, std::chrono::seconds(20)))
      << connected() << " sessions, " << alone << " before";
}

// [server] net_write_timeout: a listing and a dump whose clients stop reading end after it (the
// relay logs why), as mysqld's do; @@net_write_timeout answers it.
TEST_F(LargeFileListing, ClientsThatStopReadingAreDisconnectedAfterTheNetWriteTimeout) {
  TestRelayConfig config;
  config.server_extra = "net_write_timeout = \"2s\"\n";
  auto served = serve_binlogs({source_->binlog_path(file_)}, config);
  ASSERT_TRUE(served) << served.error().message();
  auto asking = connect(served->port);
  ASSERT_TRUE(asking);
  auto timeout = asking->query_rows("SELECT @@net_write_timeout");
  ASSERT_TRUE(timeout) << timeout.error().message();
  EXPECT_EQ(*timeout, (std::vector<std::vector<std::string>>{{"2"}}));

  auto listing = connect(served->port);
  auto dumping = connect(served->port);
  ASSERT_TRUE(listing && dumping);
  ASSERT_TRUE(listing->send_query(fmt::format("SHOW BINLOG EVENTS IN '{}'", file_)));
  for (const char* sql : {"SET @master_binlog_checksum='CRC32'", "SET @mariadb_slave_capability=4"}) {
    auto set = dumping->query_packets(sql);
    ASSERT_TRUE(set && !net::is_err_packet(set->back())) << sql;
  }
  net::BinlogDump dump;
  dump.file_name = file_;
  dump.position = 4;
  dump.server_id = 77;
  ASSERT_TRUE(dumping->send_command(net::encode_binlog_dump(dump)));
  const auto started = std::chrono::steady_clock::now();
  auto disconnects = [&] {
    const std::string log = served->relay->log();
    std::size_t count = 0;
    for (auto at = log.find("(net_write_timeout)"); at != std::string::npos;
         at = log.find("(net_write_timeout)", at + 1))
      ++count;
    return count;
  };
  EXPECT_TRUE(
      wait_until([&] { return disconnects() == 2; }, std::chrono::seconds(30), std::chrono::milliseconds(50)))
      << served->relay->log();
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::seconds(2));
  std::printf("both disconnected %lld ms after they stopped reading (net_write_timeout 2 s)\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()));
  // What the kernel holds still arrives, then the connection ends: fewer packets than the file's
  // 180,014 events.
  for (RawMysqlClient* client : {listing.get(), dumping.get()}) {
    std::size_t packets = 0;
    while (client->read_packet(std::chrono::seconds(5)))
      ++packets;
    EXPECT_LT(packets, 3U * kInserts);
  }
  auto still = asking->query_rows("SELECT 1");
  EXPECT_TRUE(still) << still.error().message();
}

}  // namespace
}  // namespace brelay::testing
