// The upstream's small parts: the reconnect back-off, the semi-sync acknowledger's ordering, and the
// GTID encodings the store keeps (relay/stored_gtids.h).
#include <gtest/gtest.h>

#include "relay/core/stored_gtids.h"
#include "relay/upstream/reconnect_backoff.h"
#include "relay/upstream/semi_sync_acknowledger.h"

namespace brelay::relay {
namespace {

using std::chrono::milliseconds;

TEST(ReconnectBackoff, DoublesUpToTheCapWithJitterBelowTheCeiling) {
  ReconnectBackoff backoff(milliseconds(250), milliseconds(2000), 42);
  const std::vector<std::int64_t> ceilings = {250, 500, 1000, 2000, 2000, 2000};
  for (std::int64_t ceiling : ceilings) {
    EXPECT_EQ(backoff.current_ceiling().count(), ceiling);
    const auto delay = backoff.next_delay().count();
    EXPECT_LE(delay, ceiling);
    EXPECT_GE(delay, ceiling - ceiling / 4);
  }
  EXPECT_EQ(backoff.attempts(), ceilings.size());
  backoff.reset();
  EXPECT_EQ(backoff.attempts(), 0u);
  EXPECT_EQ(backoff.current_ceiling().count(), 250);
}

TEST(ReconnectBackoff, ACapBelowTheFirstDelayIsTheFirstDelay) {
  ReconnectBackoff backoff(milliseconds(250), milliseconds(0), 1);
  EXPECT_LE(backoff.next_delay().count(), 250);
  EXPECT_EQ(backoff.current_ceiling().count(), 250);
}

storage::ResumePoint at(std::string file, std::uint64_t position) {
  storage::ResumePoint point;
  point.file = std::move(file);
  point.position = position;
  return point;
}

TEST(SemiSyncAcknowledger, AcknowledgesTheNewestEventTheDurableEndCovers) {
  SemiSyncAcknowledger acks;
  acks.note_file(0, "bin.000001");
  acks.request(0, 100);
  acks.request(0, 200);
  acks.request(0, 300);
  EXPECT_FALSE(acks.due(at("bin.000001", 99)));
  auto ack = acks.due(at("bin.000001", 250));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->file_name, "bin.000001");
  EXPECT_EQ(ack->position, 200u);
  EXPECT_EQ(acks.pending(), 1u);
  EXPECT_FALSE(acks.due(at("bin.000001", 250)));
}

TEST(SemiSyncAcknowledger, ADurableEndInALaterFileCoversEarlierFiles) {
  SemiSyncAcknowledger acks;
  acks.note_file(0, "bin.000009");
  acks.request(0, 5000);
  acks.note_file(1, "bin.000010");
  acks.request(1, 400);
  acks.request(1, 900);
  // A durable end in an earlier, unknown file covers nothing.
  EXPECT_FALSE(acks.due(at("bin.000008", 100000)));
  auto ack = acks.due(at("bin.000010", 500));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->file_name, "bin.000010");
  EXPECT_EQ(ack->position, 400u);
  acks.clear();
  EXPECT_EQ(acks.pending(), 0u);
  EXPECT_FALSE(acks.due(at("bin.000010", 5000)));
  acks.reset();
  acks.note_file(0, "bin.000010");
  acks.request(0, 1000);
  EXPECT_EQ(acks.due(at("bin.000010", 1000))->position, 1000u);
}

TEST(StoredGtids, KeysRoundTripAndDifferPerTransaction) {
  binlog::TransactionGtid mysql;
  mysql.kind = binlog::TransactionGtid::Kind::kMysql;
  mysql.mysql = *binlog::Gtid::parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:23");
  binlog::TransactionGtid tagged = mysql;
  tagged.mysql = *binlog::Gtid::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:blue:23");
  binlog::TransactionGtid mariadb;
  mariadb.kind = binlog::TransactionGtid::Kind::kMariadb;
  mariadb.mariadb = {1, 2, 3};
  for (const auto& gtid : {mysql, tagged, mariadb}) {
    const Bytes key = gtid_key(gtid);
    auto decoded = decode_gtid_key(key);
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(*decoded, gtid);
  }
  EXPECT_NE(gtid_key(mysql), gtid_key(tagged));
  binlog::TransactionGtid anonymous;
  anonymous.kind = binlog::TransactionGtid::Kind::kAnonymous;
  EXPECT_TRUE(gtid_key(anonymous).empty());
  EXPECT_FALSE(decode_gtid_key(Bytes{0x03, 1, 2}));
  Bytes cut = gtid_key(mariadb);
  cut.pop_back();
  EXPECT_FALSE(decode_gtid_key(cut));
}

TEST(StoredGtids, StatesAndListsRoundTrip) {
  auto set = binlog::GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7");
  ASSERT_TRUE(set);
  EXPECT_EQ(*decode_mysql_gtid_set(encode_mysql_gtid_set(*set)), *set);
  auto position = binlog::MariadbGtidPosition::parse("0-1-100,3-2-5");
  ASSERT_TRUE(position);
  EXPECT_EQ(as_text(encode_mariadb_position(*position)), "0-1-100,3-2-5");
  EXPECT_EQ(*decode_mariadb_position(encode_mariadb_position(*position)), *position);
  const std::vector<binlog::MariadbGtid> list = {{0, 1, 100}, {0, 2, 50}, {3, 2, 5}};
  EXPECT_EQ(as_text(encode_mariadb_gtid_list(list)), "0-1-100,0-2-50,3-2-5");
  EXPECT_EQ(*decode_mariadb_gtid_list(encode_mariadb_gtid_list(list)), list);
  EXPECT_TRUE(decode_mariadb_gtid_list({})->empty());
  EXPECT_FALSE(decode_mariadb_gtid_list(as_bytes("0-1")));
}

}  // namespace
}  // namespace brelay::relay
