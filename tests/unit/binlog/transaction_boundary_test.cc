// The transaction-boundary tracker over hand-built event sequences of both flavours, and the
// statement classification it relies on.
#include <gtest/gtest.h>

#include "relay/binlog/query_event.h"
#include "relay/binlog/transaction_boundary.h"
#include "tests/unit/binlog/test_events.h"

namespace brelay::binlog {
namespace {

using testing::make_event;
using testing::make_mariadb_gtid;
using testing::make_mysql_gtid;
using testing::make_query;
using testing::make_xid;

// Feeds events and returns one letter per event: S start, E end, X start+end, I inside, O outside.
std::string feed_all(TransactionBoundaryTracker& tracker, const std::vector<Bytes>& events) {
  std::string out;
  for (const auto& bytes : events) {
    auto event = view_event(bytes, ChecksumAlgorithm::kCrc32);
    EXPECT_TRUE(event) << event.error().message();
    auto boundary = tracker.feed(*event);
    EXPECT_TRUE(boundary) << boundary.error().message();
    if (!boundary) return out + "!";
    if (boundary->starts_transaction && boundary->ends_transaction) {
      out += 'X';
    } else if (boundary->starts_transaction) {
      out += 'S';
    } else if (boundary->ends_transaction) {
      out += 'E';
    } else {
      out += boundary->in_transaction ? 'I' : 'O';
    }
  }
  return out;
}

Bytes rows(EventType type = EventType::kWriteRows) {
  const Bytes body(12, 0);
  return make_event(type, body);
}

TEST(ClassifyQuery, RecognisesTransactionControlStatements) {
  EXPECT_EQ(classify_query("BEGIN"), QueryKind::kBegin);
  EXPECT_EQ(classify_query("  begin work"), QueryKind::kBegin);
  EXPECT_EQ(classify_query("START TRANSACTION"), QueryKind::kBegin);
  EXPECT_EQ(classify_query("COMMIT"), QueryKind::kCommit);
  EXPECT_EQ(classify_query("ROLLBACK"), QueryKind::kRollback);
  EXPECT_EQ(classify_query("rollback work"), QueryKind::kRollback);
  EXPECT_EQ(classify_query("ROLLBACK TO SAVEPOINT s1"), QueryKind::kRollbackToSavepoint);
  EXPECT_EQ(classify_query("ROLLBACK TO s1"), QueryKind::kRollbackToSavepoint);
  EXPECT_EQ(classify_query("SAVEPOINT s1"), QueryKind::kSavepoint);
  EXPECT_EQ(classify_query("XA START X'31',X'',1"), QueryKind::kXaStart);
  EXPECT_EQ(classify_query("XA END X'31',X'',1"), QueryKind::kXaEnd);
  EXPECT_EQ(classify_query("XA PREPARE X'31'"), QueryKind::kXaPrepare);
  EXPECT_EQ(classify_query("XA COMMIT X'31',X'',1"), QueryKind::kXaCommit);
  EXPECT_EQ(classify_query("xa rollback X'31'"), QueryKind::kXaRollback);
  EXPECT_EQ(classify_query("BEGINNING"), QueryKind::kOther);
  EXPECT_EQ(classify_query("COMMITTED"), QueryKind::kOther);
  EXPECT_EQ(classify_query("CREATE TABLE begin (a int)"), QueryKind::kOther);
  EXPECT_EQ(classify_query("rollback_log"), QueryKind::kOther);
  EXPECT_EQ(classify_query(""), QueryKind::kOther);
  EXPECT_EQ(classify_query("XA"), QueryKind::kOther);
}

TEST(TransactionBoundary, MysqlDmlDdlAndPayload) {
  TransactionBoundaryTracker tracker;
  EXPECT_TRUE(tracker.at_boundary());
  const std::vector<Bytes> events = {
      make_event(EventType::kPreviousGtids, Bytes(8, 0)),
      make_mysql_gtid("aaaaaaaaaaaaaaaa", 1),  // DML
      make_query("BEGIN"),
      make_event(EventType::kTableMap, Bytes(10, 0)),
      rows(),
      make_xid(9),
      make_mysql_gtid("aaaaaaaaaaaaaaaa", 2),  // DDL
      make_query("CREATE TABLE t (a INT)"),
      make_mysql_gtid("aaaaaaaaaaaaaaaa", 3),  // compressed
      make_event(EventType::kTransactionPayload, Bytes(4, 0)),
      make_mysql_gtid("aaaaaaaaaaaaaaaa", 4),  // statement-based with an INTVAR and a COMMIT query
      make_query("BEGIN"),
      make_event(EventType::kIntvar, Bytes(9, 0)),
      make_query("INSERT INTO t VALUES (NULL)"),
      make_query("COMMIT"),
  };
  EXPECT_EQ(feed_all(tracker, events), "OSIIIESESESIIIE");
  EXPECT_TRUE(tracker.at_boundary());
  EXPECT_EQ(tracker.completed_transactions(), 4u);
  EXPECT_EQ(tracker.current_gtid().kind, TransactionGtid::Kind::kMysql);
  EXPECT_EQ(tracker.current_gtid().mysql.gno, 4);
}

TEST(TransactionBoundary, RollbackToSavepointDoesNotEndButRollbackDoes) {
  TransactionBoundaryTracker tracker;
  EXPECT_EQ(feed_all(tracker, {make_mysql_gtid("b", 5), make_query("BEGIN"), make_query("SAVEPOINT s"),
                               rows(), make_query("ROLLBACK TO s"), rows(), make_query("ROLLBACK")}),
            "SIIIIIE");
  EXPECT_TRUE(tracker.at_boundary());
}

TEST(TransactionBoundary, XaPrepareThenCommit) {
  TransactionBoundaryTracker tracker;
  EXPECT_EQ(
      feed_all(tracker, {make_mysql_gtid("c", 1), make_query("XA START X'31',X'',1"), rows(),
                         make_query("XA END X'31',X'',1"), make_event(EventType::kXaPrepare, Bytes(20, 0)),
                         make_mysql_gtid("c", 2), make_query("XA COMMIT X'31',X'',1"),
                         make_mysql_gtid("c", 3), make_query("XA ROLLBACK X'32',X'',1")}),
      "SIIIESESE");
  EXPECT_EQ(tracker.completed_transactions(), 3u);
}

TEST(TransactionBoundary, OutsideEventsChangeNothingMidTransaction) {
  TransactionBoundaryTracker tracker;
  EXPECT_EQ(feed_all(tracker, {make_mysql_gtid("d", 1), make_query("BEGIN"),
                               make_event(EventType::kHeartbeat, Bytes{'f'}), rows(), make_xid(1)}),
            "SIOIE");
}

TEST(TransactionBoundary, MariadbStandaloneDdlAndTransactions) {
  TransactionBoundaryTracker tracker;
  const std::vector<Bytes> events = {
      make_event(EventType::kGtidList, Bytes(4, 0)),
      make_event(EventType::kBinlogCheckpoint, Bytes{1, 0, 0, 0, 'f'}),
      make_mariadb_gtid(0, 1, 1, 0x01 | 0x20),  // standalone DDL
      make_query("CREATE TABLE t (a INT)"),
      make_mariadb_gtid(0, 1, 2, 0x08),  // transaction: the GTID is its BEGIN
      make_event(EventType::kAnnotateRows, as_bytes("INSERT INTO t VALUES (1)")),
      make_event(EventType::kTableMap, Bytes(10, 0)),
      rows(EventType::kWriteRowsV1),
      make_xid(3),
      make_mariadb_gtid(0, 1, 3, 0x01),  // standalone statement with an INTVAR first
      make_event(EventType::kIntvar, Bytes(9, 0)),
      make_query("INSERT INTO myisam_t VALUES (NULL)"),
      make_mariadb_gtid(0, 1, 4, 0),  // statement-based transaction with MyISAM, ending in ROLLBACK
      make_query("INSERT INTO innodb_t VALUES (1)"),
      make_query("INSERT INTO myisam_t VALUES (1)"),
      make_query("ROLLBACK"),
      make_mariadb_gtid(0, 1, 5, 0x40),  // XA: GTID, rows, XA END, XA_PREPARE
      make_event(EventType::kTableMap, Bytes(10, 0)),
      rows(EventType::kWriteRows),
      make_query("XA END X'31',X'',1"),
      make_event(EventType::kXaPrepare, Bytes(20, 0)),
      make_mariadb_gtid(0, 1, 6, 0x80 | 0x01),  // XA COMMIT
      make_query("XA COMMIT X'31',X'',1"),
  };
  EXPECT_EQ(feed_all(tracker, events), "OOSESIIIESIESIIESIIIESE");
  EXPECT_EQ(tracker.current_gtid().to_string(), "0-1-6");
  EXPECT_EQ(tracker.completed_transactions(), 6u);
}

TEST(TransactionBoundary, BinlogWithoutGtidEvents) {
  TransactionBoundaryTracker tracker;
  EXPECT_EQ(feed_all(tracker, {make_query("CREATE TABLE t (a INT)"), make_query("BEGIN"), rows(), make_xid(1),
                               make_event(EventType::kUserVar, Bytes(10, 0)),
                               make_query("INSERT INTO t VALUES (@a)")}),
            "XSIESE");
  EXPECT_EQ(tracker.current_gtid().kind, TransactionGtid::Kind::kNone);
  EXPECT_EQ(tracker.completed_transactions(), 3u);
}

TEST(TransactionBoundary, GtidInsideAnOpenTransactionIsAnErrorAndResetRecovers) {
  TransactionBoundaryTracker tracker;
  EXPECT_EQ(feed_all(tracker, {make_mysql_gtid("e", 1), make_query("BEGIN"), rows()}), "SII");
  EXPECT_FALSE(tracker.at_boundary());
  const Bytes gtid = make_mysql_gtid("e", 2);
  auto result = tracker.feed(*view_event(gtid, ChecksumAlgorithm::kCrc32));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("still open"), std::string::npos) << result.error().message();
  EXPECT_FALSE(tracker.at_boundary());
  tracker.reset();
  EXPECT_TRUE(tracker.at_boundary());
  EXPECT_EQ(feed_all(tracker, {gtid, make_query("BEGIN"), make_xid(2)}), "SIE");
}

}  // namespace
}  // namespace brelay::binlog
