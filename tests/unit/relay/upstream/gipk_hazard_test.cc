// The GIPK hazard guard's upstream side: which DDL an Azure replica with invisible primary keys
// stops on (1068, 1075, partitioned without a key), which it does not (an ALTER on a table with a
// primary key), the table states kept from the information_schema seed and from DDL, and the
// bounded record of hazards with its release.
#include <gtest/gtest.h>

#include "relay/core/target_hazards.h"
#include "relay/upstream/gipk_hazard_tracker.h"

namespace brelay::relay {
namespace {

using Key = GipkHazardTracker::KeyState;

std::vector<HazardKind> kinds(const std::vector<GipkHazardTracker::Flag>& flags) {
  std::vector<HazardKind> out;
  for (const auto& flag : flags)
    out.push_back(flag.kind);
  return out;
}

TEST(GipkHazardTracker, AddingAPrimaryKeyToATableCreatedWithoutOneIs1068) {
  GipkHazardTracker tracker;
  EXPECT_TRUE(tracker.on_statement("db", "CREATE TABLE t (a int)").empty());
  EXPECT_EQ(tracker.state("db", "t"), Key::kInvisibleKey);
  auto flags = tracker.on_statement("db", "ALTER TABLE t ADD PRIMARY KEY (a)");
  ASSERT_EQ(kinds(flags), std::vector<HazardKind>{HazardKind::kAddPrimaryKey});
  EXPECT_EQ(flags[0].table, "db.t");
  EXPECT_EQ(tracker.state("DB", "T"), Key::kPrimaryKey);
  // Now it has one: further ALTERs are not flagged.
  EXPECT_TRUE(tracker.on_statement("db", "ALTER TABLE t ADD COLUMN id2 int AUTO_INCREMENT UNIQUE").empty());
}

TEST(GipkHazardTracker, AnAutoIncrementKeyOnATableWithoutPrimaryKeyIs1075) {
  GipkHazardTracker tracker;
  tracker.on_statement("db", "CREATE TABLE t2 (a int)");
  auto flags = tracker.on_statement("other", "ALTER TABLE db.t2 ADD COLUMN id int AUTO_INCREMENT UNIQUE");
  ASSERT_EQ(kinds(flags), std::vector<HazardKind>{HazardKind::kAutoIncrementKey});
  EXPECT_EQ(flags[0].table, "db.t2");
  // ADD COLUMN ... AUTO_INCREMENT PRIMARY KEY is the 1068 one.
  tracker.on_statement("db", "CREATE TABLE t3 (a int)");
  EXPECT_EQ(kinds(tracker.on_statement("db", "ALTER TABLE t3 ADD COLUMN id int AUTO_INCREMENT PRIMARY KEY")),
            std::vector<HazardKind>{HazardKind::kAddPrimaryKey});
}

TEST(GipkHazardTracker, PartitionedWithoutPrimaryKey) {
  GipkHazardTracker tracker;
  EXPECT_EQ(kinds(tracker.on_statement("db", "CREATE TABLE p (a int) PARTITION BY HASH(a) PARTITIONS 2")),
            std::vector<HazardKind>{HazardKind::kPartitionedWithoutKey});
  EXPECT_TRUE(
      tracker.on_statement("db", "CREATE TABLE q (a int primary key) PARTITION BY HASH(a) PARTITIONS 2")
          .empty());
  tracker.on_statement("db", "CREATE TABLE r (a int)");
  EXPECT_EQ(kinds(tracker.on_statement("db", "ALTER TABLE r PARTITION BY KEY(a) PARTITIONS 2")),
            std::vector<HazardKind>{HazardKind::kPartitionedWithoutKey});
  EXPECT_TRUE(tracker.on_statement("db", "CREATE TEMPORARY TABLE tmp (a int) PARTITION BY HASH(a)").empty());
}

TEST(GipkHazardTracker, AlterOnATableWithPrimaryKeyIsNotFlagged) {
  GipkHazardTracker tracker;
  tracker.seed("db", "k", true);
  EXPECT_TRUE(tracker.on_statement("db", "ALTER TABLE k ADD COLUMN c int").empty());
  EXPECT_TRUE(tracker.on_statement("db", "ALTER TABLE k ADD COLUMN id int AUTO_INCREMENT UNIQUE").empty());
  EXPECT_TRUE(tracker.on_statement("db", "ALTER TABLE k DROP PRIMARY KEY, ADD PRIMARY KEY (c)").empty());
  EXPECT_TRUE(tracker.on_statement("db", "INSERT INTO k VALUES (1)").empty());
  // An explicit key dropped leaves no invisible one behind: adding one back works on the target.
  EXPECT_TRUE(tracker.on_statement("db", "ALTER TABLE k DROP PRIMARY KEY").empty());
  EXPECT_EQ(tracker.state("db", "k"), Key::kNoKey);
  EXPECT_TRUE(tracker.on_statement("db", "ALTER TABLE k ADD PRIMARY KEY (c)").empty());
}

TEST(GipkHazardTracker, SeedRenameDropAndUnknownTables) {
  GipkHazardTracker tracker;
  tracker.seed("db", "nokey", false);
  tracker.on_statement("db", "CREATE TABLE withkey (a int, PRIMARY KEY (a))");
  tracker.seed("db", "withkey", false);  // the stream's own knowledge wins over a later seed
  EXPECT_EQ(tracker.state("db", "withkey"), Key::kPrimaryKey);
  tracker.on_statement("db", "RENAME TABLE nokey TO renamed");
  EXPECT_FALSE(tracker.state("db", "nokey"));
  EXPECT_EQ(tracker.state("db", "renamed"), Key::kInvisibleKey);
  tracker.on_statement("db", "ALTER TABLE withkey RENAME TO other.moved");
  EXPECT_EQ(tracker.state("other", "moved"), Key::kPrimaryKey);
  tracker.on_statement("db", "CREATE TABLE copy LIKE other.moved");
  EXPECT_EQ(tracker.state("db", "copy"), Key::kPrimaryKey);
  tracker.on_statement("db", "DROP TABLE copy, renamed");
  EXPECT_FALSE(tracker.state("db", "copy"));
  EXPECT_FALSE(tracker.state("db", "renamed"));
  // A table never seen: ADD PRIMARY KEY succeeded on the source, so it had none.
  EXPECT_EQ(kinds(tracker.on_statement("db", "ALTER TABLE unseen ADD PRIMARY KEY (a)")),
            std::vector<HazardKind>{HazardKind::kAddPrimaryKey});
}

TEST(TargetHazards, RecordReleaseAndBound) {
  TargetHazards hazards;
  TargetHazard hazard;
  hazard.kind = HazardKind::kAddPrimaryKey;
  hazard.table = "db.t";
  hazard.file = "mysql-bin.000001";
  hazard.position = 1234;
  hazard.gtid = "0-1-7";
  hazards.record(hazard);
  EXPECT_TRUE(hazards.held_at("mysql-bin.000001", 1234));
  EXPECT_FALSE(hazards.held_at("mysql-bin.000001", 1235));
  const std::string text = hazards.recent().back().describe();
  EXPECT_NE(text.find("ERROR 1068"), std::string::npos) << text;
  EXPECT_NE(text.find("DROP COLUMN my_row_id"), std::string::npos) << text;
  EXPECT_NE(text.find("az_replication_skip_counter"), std::string::npos) << text;
  EXPECT_FALSE(hazards.release("0-1-8"));
  auto released = hazards.release("0-1-7");
  ASSERT_TRUE(released);
  EXPECT_EQ(*released, 1u);
  EXPECT_FALSE(hazards.held_at("mysql-bin.000001", 1234));
  EXPECT_FALSE(hazards.release("0-1-7"));  // already released

  hazard.gtid = "3e11fa47-71ca-11e1-9e33-c80aa9429562:5";
  hazard.kind = HazardKind::kAutoIncrementKey;
  hazard.position = 2000;
  hazards.record(hazard);
  EXPECT_NE(hazards.recent().back().mitigation().find("az_replication_skip_gtid_transaction"),
            std::string::npos);
  EXPECT_TRUE(hazards.release("mysql-bin.000001:2000"));

  for (std::size_t i = 0; i < 3 * TargetHazards::kCapacity; ++i) {
    hazard.position = 10'000 + i;
    hazards.record(hazard);
  }
  EXPECT_EQ(hazards.recent().size(), TargetHazards::kCapacity);
  EXPECT_EQ(hazards.recorded_total(), 2 + 3 * TargetHazards::kCapacity);
  EXPECT_EQ(hazards.unreleased(), TargetHazards::kCapacity);
}

}  // namespace
}  // namespace brelay::relay
