// Binlogs written by a real MariaDB during the test (DDL, multi-statement transactions, a logged
// ROLLBACK of a transaction that touched a MyISAM table, a row over 16 MiB, XA COMMIT and XA
// ROLLBACK, a rotation) are walked with the codec's file reader, checksum check and transaction
// tracker; the boundaries and GTIDs must match what the test executed. The events are then written
// back out: the exported files are byte-identical and the real `mariadb-binlog` reads them.
#include <gtest/gtest.h>

#include <filesystem>

#include "relay/binlog/binlog_file.h"
#include "relay/binlog/event_builders.h"
#include "relay/binlog/event_info.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/gtid_list_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/query_event.h"
#include "relay/binlog/transaction_boundary.h"
#include "tests/support/mariadb_server.h"

namespace brelay::binlog {
namespace {

using brelay::testing::MariaDbOptions;
using brelay::testing::MariaDbServer;
using brelay::testing::read_file;
using brelay::testing::run_command;
using brelay::testing::TempDir;

// One completed transaction as the tracker saw it.
struct Transaction {
  std::string file;
  std::string gtid;
  EventType last_event;
  std::string last_statement;  // for a Query that ended it
  std::size_t largest_event = 0;

  std::string describe() const {
    return fmt::format("{} {} ends with {} {}", file, gtid, event_type_name(last_event), last_statement);
  }
};

struct WalkedFile {
  std::vector<Bytes> events;
  std::vector<MariadbGtid> gtid_list;
};

// Reads a binlog file, verifying every checksum and feeding the tracker.
WalkedFile walk_file(const std::string& path, const std::string& name, TransactionBoundaryTracker& tracker,
                     std::vector<Transaction>& transactions) {
  WalkedFile walked;
  auto reader = BinlogFileReader::open(path);
  EXPECT_TRUE(reader) << reader.error().message();
  if (!reader) return walked;
  ChecksumAlgorithm checksum = ChecksumAlgorithm::kUndefined;
  std::size_t largest = 0;
  while (true) {
    const std::uint64_t offset = reader->position();
    auto next = reader->next();
    EXPECT_TRUE(next) << next.error().message();
    if (!next || !*next) break;
    const ByteView bytes = **next;
    walked.events.emplace_back(bytes.begin(), bytes.end());
    auto event = view_event(bytes, checksum);
    EXPECT_TRUE(event) << name << " offset " << offset << ": " << event.error().message();
    if (!event) break;
    if (event->header.type == EventType::kFormatDescription)
      checksum = parse_format_description(bytes)->checksum_algorithm;
    if (event->header.type == EventType::kGtidList) walked.gtid_list = parse_gtid_list(*event)->gtids;
    EXPECT_TRUE(event->has_checksum) << name << " offset " << offset;
    EXPECT_TRUE(verify_event_checksum(bytes)) << name << " offset " << offset;
    EXPECT_EQ(event->header.log_pos, offset + bytes.size()) << name << " offset " << offset;
    EXPECT_TRUE(event_info(*event)) << name << " offset " << offset;
    auto boundary = tracker.feed(*event);
    EXPECT_TRUE(boundary) << name << " offset " << offset << ": " << boundary.error().message();
    if (!boundary) break;
    if (boundary->in_transaction) largest = std::max(largest, bytes.size());
    if (boundary->ends_transaction) {
      Transaction transaction{name, tracker.current_gtid().to_string(), event->header.type, "", largest};
      if (event->header.type == EventType::kQuery)
        transaction.last_statement = std::string(parse_query(*event)->query);
      transactions.push_back(transaction);
      largest = 0;
    }
  }
  return walked;
}

TEST(BinlogWalk, RealMariadbBinlogsWalkWithTheBoundariesTheTestExecuted) {
  MariaDbOptions options;
  options.server_id = 11;
  auto started = MariaDbServer::start(options);
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;

  const std::string script = R"(
      CREATE DATABASE shop;
      CREATE TABLE shop.t (id INT PRIMARY KEY, v LONGBLOB) ENGINE=InnoDB;
      CREATE TABLE shop.m (id INT PRIMARY KEY) ENGINE=MyISAM;
      BEGIN; INSERT INTO shop.t VALUES (1, 'a'); INSERT INTO shop.t VALUES (2, 'b');
        UPDATE shop.t SET v = 'c' WHERE id = 1; COMMIT;
      BEGIN; INSERT INTO shop.t VALUES (3, 'not logged'); ROLLBACK;
      SET SESSION binlog_format = 'STATEMENT';
      BEGIN; INSERT INTO shop.t VALUES (4, 'rolled back'); INSERT INTO shop.m VALUES (1); ROLLBACK;
      SET SESSION binlog_format = 'ROW';
      INSERT INTO shop.t VALUES (5, REPEAT('x', 17 * 1024 * 1024));
      XA START 'x1'; INSERT INTO shop.t VALUES (6, 'xa'); XA END 'x1'; XA PREPARE 'x1'; XA COMMIT 'x1';
      XA START 'x2'; INSERT INTO shop.t VALUES (7, 'xa'); XA END 'x2'; XA PREPARE 'x2'; XA ROLLBACK 'x2';
      FLUSH BINARY LOGS;
      INSERT INTO shop.t VALUES (8, 'after rotation');
      DROP TABLE shop.m;
  )";
  auto ran = source.client({"--max-allowed-packet=1G"}, script);
  ASSERT_TRUE(ran) << ran.error().message();
  ASSERT_EQ(ran->exit_status, 0) << ran->err;

  auto logs = source.query("SHOW BINARY LOGS");
  ASSERT_TRUE(logs) << logs.error().message();
  ASSERT_EQ(logs->size(), 2u);
  auto binlog_pos = source.query("SELECT @@gtid_binlog_pos");
  ASSERT_TRUE(binlog_pos);
  // A clean shutdown makes the files final: MariaDB writes its Binlog_checkpoint events
  // asynchronously and ends the last file with a STOP event.
  ASSERT_TRUE(source.stop());

  TransactionBoundaryTracker tracker;
  std::vector<Transaction> transactions;
  std::vector<WalkedFile> files;
  for (const auto& row : *logs)
    files.push_back(walk_file(source.binlog_path(row[0]), row[0], tracker, transactions));
  EXPECT_TRUE(tracker.at_boundary());
  ASSERT_FALSE(files.back().events.empty());
  EXPECT_EQ(parse_event_header(files.back().events.back())->type, EventType::kStop);

  struct Expected {
    std::string file;
    std::string gtid;
    EventType last_event;
    std::string last_statement_start;
  };
  const std::string first = (*logs)[0][0];
  const std::string second = (*logs)[1][0];
  const std::vector<Expected> expected = {
      {first, "0-11-1", EventType::kQuery, "CREATE DATABASE shop"},
      {first, "0-11-2", EventType::kQuery, "CREATE TABLE shop.t"},
      {first, "0-11-3", EventType::kQuery, "CREATE TABLE shop.m"},
      {first, "0-11-4", EventType::kXid, ""},
      // The InnoDB-only ROLLBACK is not logged; the one that touched MyISAM is (statement format:
      // GTID, both INSERTs, ROLLBACK; no BEGIN query, the GTID is the BEGIN).
      {first, "0-11-5", EventType::kQuery, "ROLLBACK"},
      {first, "0-11-6", EventType::kXid, ""},
      // MariaDB logs XA PREPARE as GTID (FL_PREPARED_XA), rows, XA END, XA_PREPARE.
      {first, "0-11-7", EventType::kXaPrepare, ""},
      {first, "0-11-8", EventType::kQuery, "XA COMMIT"},
      {first, "0-11-9", EventType::kXaPrepare, ""},
      {first, "0-11-10", EventType::kQuery, "XA ROLLBACK"},
      {second, "0-11-11", EventType::kXid, ""},
      {second, "0-11-12", EventType::kQuery, "DROP TABLE"},
  };
  std::string seen;
  for (const auto& transaction : transactions)
    seen += transaction.describe() + "\n";
  ASSERT_EQ(transactions.size(), expected.size()) << seen;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(transactions[i].describe());
    EXPECT_EQ(transactions[i].file, expected[i].file);
    EXPECT_EQ(transactions[i].gtid, expected[i].gtid);
    EXPECT_EQ(transactions[i].last_event, expected[i].last_event);
    EXPECT_TRUE(transactions[i].last_statement.starts_with(expected[i].last_statement_start));
  }
  // The big row really is one event over 16 MiB.
  EXPECT_GT(transactions[5].largest_event, std::size_t{16} << 20);
  // The tracker's last GTID is the server's binlog position, and the second file's GTID_LIST
  // holds the state at the rotation.
  EXPECT_EQ((*binlog_pos)[0][0], "0-11-12");
  EXPECT_EQ(tracker.current_gtid().to_string(), "0-11-12");
  EXPECT_EQ(to_string(files[1].gtid_list), "0-11-10");
  EXPECT_TRUE(files[0].gtid_list.empty());
  EXPECT_TRUE(MariadbGtidPosition::parse("0-11-10")->can_start_in_file(files[1].gtid_list));
  EXPECT_FALSE(MariadbGtidPosition::parse("0-11-9")->can_start_in_file(files[1].gtid_list));
  EXPECT_TRUE(MariadbGtidPosition::parse("0-11-9")->can_start_in_file(files[0].gtid_list));

  // Export: write the events back out, compare bytes, and let the real mariadb-binlog read them.
  auto dir = TempDir::create("binlog-export");
  ASSERT_TRUE(dir);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string name = (*logs)[i][0];
    const std::string out_path = dir->file(name);
    auto writer = BinlogFileWriter::create(out_path);
    ASSERT_TRUE(writer) << writer.error().message();
    for (const auto& event : files[i].events)
      ASSERT_TRUE(writer->append(event));
    ASSERT_TRUE(writer->finish());
    auto original = read_file(source.binlog_path(name));
    auto exported = read_file(out_path);
    ASSERT_TRUE(original && exported);
    EXPECT_TRUE(*original == *exported) << name << " differs after export";

    auto decoded = run_command({"mariadb-binlog", "--verify-binlog-checksum", out_path});
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(decoded->exit_status, 0) << decoded->err;
    EXPECT_EQ(decoded->err.find("ERROR"), std::string::npos) << decoded->err;
    EXPECT_NE(decoded->out.find(i == 0 ? "GTID 0-11-10" : "GTID 0-11-12"), std::string::npos);
  }

  // The stream a MariaDB master sends a replica without GTID support (capability < 4): GTIDs
  // become BEGIN queries, GTID_LIST and BINLOG_CHECKPOINT same-length dummies. Positions do not
  // move, the checksums verify, and mariadb-binlog reads the result.
  const std::string compat_path = dir->file("compat-" + first);
  auto writer = BinlogFileWriter::create(compat_path);
  ASSERT_TRUE(writer);
  int begins = 0;
  int dummies = 0;
  for (const auto& event : files[0].events) {
    const EventType type = parse_event_header(event)->type;
    Result<Bytes> replaced = Bytes(event);
    if (type == EventType::kMariadbGtid) {
      replaced = mariadb_gtid_for_old_replica(event, true);
      if (!replaced) {
        // MariaDB's master cannot convert XA GTIDs (they carry the XID) either.
        const auto gtid = parse_mariadb_gtid(*view_event(event, ChecksumAlgorithm::kCrc32));
        EXPECT_NE(gtid->flags2 & (mariadb_gtid_flags::kPreparedXa | mariadb_gtid_flags::kCompletedXa), 0)
            << replaced.error().message();
        replaced = Bytes(event);
      } else if (parse_event_header(*replaced)->type == EventType::kQuery) {
        ++begins;
      }
    } else if (type == EventType::kGtidList || type == EventType::kBinlogCheckpoint) {
      replaced = mariadb_dummy_event(event, true);
      ASSERT_TRUE(replaced) << replaced.error().message();
      ++dummies;
    }
    ASSERT_EQ(replaced->size(), event.size());
    EXPECT_TRUE(verify_event_checksum(*replaced));
    ASSERT_TRUE(writer->append(*replaced));
  }
  ASSERT_TRUE(writer->finish());
  EXPECT_EQ(std::filesystem::file_size(compat_path), std::filesystem::file_size(source.binlog_path(first)));
  EXPECT_GE(begins, 3);  // the transactions 0-11-4, 5 and 6
  EXPECT_GE(dummies, 2);
  auto decoded = run_command({"mariadb-binlog", "--verify-binlog-checksum", compat_path});
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->exit_status, 0) << decoded->err;
  EXPECT_NE(decoded->out.find("# Dumm"), std::string::npos) << decoded->out;
}

}  // namespace
}  // namespace brelay::binlog
