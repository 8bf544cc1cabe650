// GTID state and positioning over stores imported from the fixtures: @@gtid_executed / @@gtid_purged
// and the MariaDB binlog state, BINLOG_GTID_POS(), MySQL auto-positioning (start file, the "purged"
// and "more GTIDs" errors) and MariaDB's slave_connect_state checks, with the servers' texts.
#include "relay/downstream/binlog_positioning.h"

#include <gtest/gtest.h>

#include "relay/downstream/stored_gtid_state.h"
#include "relay/tools/binlog_import.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace brelay::relay::downstream {
namespace {

constexpr const char* kUuid80 = "76f3e7be-6720-11ed-9cad-0242ac110002";

class StoredFixture {
 public:
  explicit StoredFixture(const std::string& name) {
    auto dir = testing::TempDir::create("positioning");
    EXPECT_TRUE(dir);
    dir_ = std::make_unique<testing::TempDir>(std::move(*dir));
    storage::StoreOptions options;
    options.sync = storage::SyncMode::kNone;
    auto store = storage::BinlogStore::open(dir_->file("store"), options);
    EXPECT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
    auto imported = import_files(*store_, {testing::source_dir() + "/tests/data/binlogs/" + name});
    EXPECT_TRUE(imported) << imported.error().message();
    gtids_ = std::make_unique<StoredGtidState>(*store_);
  }

  storage::BinlogStore& store() { return *store_; }
  StoredGtidState& gtids() { return *gtids_; }

 private:
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<storage::BinlogStore> store_;
  std::unique_ptr<StoredGtidState> gtids_;
};

binlog::GtidSet set(const std::string& text) {
  auto parsed = binlog::GtidSet::parse(text);
  EXPECT_TRUE(parsed) << parsed.error().message();
  return parsed ? *parsed : binlog::GtidSet();
}

TEST(StoredGtidState, MysqlExecutedAndPurged) {
  StoredFixture fixture("apecloud-mysql80-gtid-zstd-compressed.000057");
  auto executed = fixture.gtids().mysql_executed();
  ASSERT_TRUE(executed) << executed.error().message();
  EXPECT_EQ(executed->to_string(), std::string(kUuid80) + ":1-13");
  auto purged = fixture.gtids().mysql_purged();
  ASSERT_TRUE(purged);
  EXPECT_EQ(purged->to_string(), std::string(kUuid80) + ":1-10");
  // Asked again, from the cache.
  EXPECT_EQ(fixture.gtids().mysql_executed()->to_string(), std::string(kUuid80) + ":1-13");
}

TEST(StoredGtidState, MariadbStateAndBinlogGtidPos) {
  StoredFixture fixture("rust-mysql-common-mariadb105-gtid-row.000001");
  auto state = fixture.gtids().mariadb_state();
  ASSERT_TRUE(state) << state.error().message();
  EXPECT_EQ(state->position().to_string(), "0-1-2");
  EXPECT_EQ(state->state_text(), "0-1-2");
  const std::string file = "rust-mysql-common-mariadb105-gtid-row.000001";
  auto at_start = fixture.gtids().mariadb_position_at(file, 4);
  ASSERT_TRUE(at_start) << at_start.error().message();
  EXPECT_EQ(at_start->to_string(), "");
  auto at_end = fixture.gtids().mariadb_position_at(file, 1074);
  ASSERT_TRUE(at_end) << at_end.error().message();
  EXPECT_EQ(at_end->to_string(), "0-1-2");
  auto inside = fixture.gtids().mariadb_position_at(file, 5);
  ASSERT_FALSE(inside);
  EXPECT_NE(inside.error().message().find("does not correspond to the location of any binlog event"),
            std::string::npos);
}

TEST(MysqlGtidPositioning, StartsAtTheNewestFileTheReplicaHasAllBefore) {
  StoredFixture fixture("apecloud-mysql80-gtid-zstd-compressed.000057");
  const ReplicationWording wording{true};
  auto start = find_mysql_gtid_start(fixture.store(), fixture.gtids(), set(std::string(kUuid80) + ":1-11"),
                                     kUuid80, wording);
  ASSERT_TRUE(start) << start.error().message();
  EXPECT_EQ(start->file, "apecloud-mysql80-gtid-zstd-compressed.000057");
  EXPECT_TRUE(start->skips_first_transaction);
  start = find_mysql_gtid_start(fixture.store(), fixture.gtids(), set(std::string(kUuid80) + ":1-10"),
                                kUuid80, wording);
  ASSERT_TRUE(start);
  EXPECT_FALSE(start->skips_first_transaction);
}

TEST(MysqlGtidPositioning, PurgedAndAheadErrorsCarryTheServersTexts) {
  StoredFixture fixture("apecloud-mysql80-gtid-zstd-compressed.000057");
  auto purged = find_mysql_gtid_start(fixture.store(), fixture.gtids(), set(std::string(kUuid80) + ":1-3"),
                                      kUuid80, ReplicationWording{true});
  ASSERT_FALSE(purged);
  EXPECT_EQ(purged.error().code(), 1236);
  EXPECT_EQ(
      purged.error().message(),
      "Cannot replicate because the source purged required binary logs. Replicate the missing transactions "
      "from elsewhere, or provision a new replica from backup. Consider increasing the source's binary log "
      "expiration period. The GTID set sent by the replica is '" +
          std::string(kUuid80) + ":1-3', and the missing transactions are '" + kUuid80 + ":4-10'.");
  auto old_wording = find_mysql_gtid_start(fixture.store(), fixture.gtids(), binlog::GtidSet(), kUuid80,
                                           ReplicationWording{false});
  ASSERT_FALSE(old_wording);
  EXPECT_EQ(old_wording.error().message().rfind(
                "Cannot replicate because the master purged required binary logs", 0),
            0u);
  auto ahead = find_mysql_gtid_start(fixture.store(), fixture.gtids(), set(std::string(kUuid80) + ":1-14"),
                                     kUuid80, ReplicationWording{true});
  ASSERT_FALSE(ahead);
  EXPECT_EQ(ahead.error().message().rfind(
                "Replica has more GTIDs than the source has, using the source's SERVER_UUID", 0),
            0u);
  // Another server's GTIDs are the replica's own business.
  auto others =
      find_mysql_gtid_start(fixture.store(), fixture.gtids(),
                            set(std::string(kUuid80) + ":1-13,11111111-1111-1111-1111-111111111111:1-99"),
                            kUuid80, ReplicationWording{true});
  EXPECT_TRUE(others) << others.error().message();
}

TEST(MariadbGtidPositioning, ChecksTheRequestedStateAgainstTheBinlog) {
  StoredFixture fixture("rust-mysql-common-mariadb105-gtid-row.000001");
  auto requested = [](const std::string& text) {
    auto position = binlog::MariadbGtidPosition::parse(text);
    EXPECT_TRUE(position);
    return position ? *position : binlog::MariadbGtidPosition();
  };
  auto start = find_mariadb_gtid_start(fixture.store(), fixture.gtids(), requested("0-1-1"), false);
  ASSERT_TRUE(start) << start.error().message();
  EXPECT_EQ(start->file, "rust-mysql-common-mariadb105-gtid-row.000001");
  EXPECT_EQ(start->position, 4u);
  EXPECT_EQ(start->skip_until.to_string(), "0-1-1");
  // A domain the binlog never had: another master's business.
  EXPECT_TRUE(find_mariadb_gtid_start(fixture.store(), fixture.gtids(), requested("0-1-2,7-9-100"), false));

  auto missing = find_mariadb_gtid_start(fixture.store(), fixture.gtids(), requested("0-1-5"), false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), 1236);
  EXPECT_EQ(
      missing.error().message(),
      "Error: connecting slave requested to start from GTID 0-1-5, which is not in the master's binlog");
  auto diverged = find_mariadb_gtid_start(fixture.store(), fixture.gtids(), requested("0-2-1"), false);
  ASSERT_FALSE(diverged);
  EXPECT_NE(diverged.error().message().find("it probably means that the slave has diverged"),
            std::string::npos);
  EXPECT_TRUE(find_mariadb_gtid_start(fixture.store(), fixture.gtids(), requested("0-1-5"), true))
      << "with gtid_ignore_duplicates a GTID ahead of the binlog is fine";
}

}  // namespace
}  // namespace brelay::relay::downstream
