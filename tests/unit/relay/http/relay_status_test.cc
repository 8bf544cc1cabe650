#include "relay/http/relay_status.h"

#include <gtest/gtest.h>

#include "relay/app/retention_scheduler.h"
#include "relay/core/config.h"
#include "tests/support/paths.h"
#include "tests/support/store_seed.h"
#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

std::string value_of(const StatusRows& rows, const std::string& name) {
  for (const auto& [row_name, value] : rows)
    if (row_name == name) return value;
  return "<missing>";
}

TEST(RelayStatus, HumanBytesAndAlignedRows) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(std::uint64_t{3} << 30), "3.0 GiB");
  EXPECT_EQ(format_status_rows({{"A", "1"}, {"Longer", "two"}}), "A:       1\nLonger:  two\n");
}

TEST(RelayStatus, RetentionPolicyFromTheStorageSection) {
  StorageConfig storage;
  storage.retention_time = std::chrono::hours(48);
  storage.retention_size = 1000;
  auto policy = retention_policy(storage);
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->max_age_seconds, 48 * 3600);
  EXPECT_EQ(policy->max_total_bytes, 1000u);
  storage.retention_time = Duration(0);
  storage.retention_size = 0;
  EXPECT_FALSE(retention_policy(storage));
}

class RelayStatusOnAStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::create("relay-status");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<testing::TempDir>(std::move(*dir));
    auto store = storage::BinlogStore::open(dir_->path());
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
    ASSERT_TRUE(testing::seed_store_from_binlogs(
        *store_, {testing::source_dir() + "/tests/data/binlogs/apecloud-mysql57-gtid-row.000080"}));
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<storage::BinlogStore> store_;
};

TEST_F(RelayStatusOnAStore, LagIsWhatIsStoredAfterTheReadersPosition) {
  const auto end = store_->durable_end();
  ASSERT_TRUE(end);
  auto files = store_->list_files();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 1u);
  const storage::FileInfo& file = files->front();

  auto from_start = replica_lag(*store_, end, file.name, file.first_position);
  ASSERT_TRUE(from_start) << from_start.error().message();
  EXPECT_EQ(from_start->bytes, end->position - file.first_position);
  ASSERT_TRUE(from_start->seconds);
  EXPECT_GE(*from_start->seconds, 0);
  EXPECT_EQ(*from_start->seconds, end->timestamp - file.first_timestamp);

  auto caught_up = replica_lag(*store_, end, end->file, end->position);
  ASSERT_TRUE(caught_up);
  EXPECT_EQ(caught_up->bytes, 0u);
  EXPECT_EQ(caught_up->seconds, std::optional<std::int64_t>(0));

  EXPECT_FALSE(replica_lag(*store_, end, "mysql-bin.999999", 4));
}

TEST_F(RelayStatusOnAStore, RowsWithoutUpstreamOrListenerSayWhatTheStoreHolds) {
  RelayStatusInputs inputs;
  inputs.store = store_.get();
  const StatusRows rows = relay_status_rows(inputs);
  const auto end = store_->durable_end();
  ASSERT_TRUE(end);
  EXPECT_EQ(value_of(rows, "Upstream_State"), "not running");
  EXPECT_EQ(value_of(rows, "Stored_Coordinates"), fmt::format("{}:{}", end->file, end->position));
  EXPECT_EQ(value_of(rows, "Store_Files"), "1");
  EXPECT_EQ(value_of(rows, "Oldest_File"), end->file);
  EXPECT_EQ(value_of(rows, "Replicas"), "the listener is not open");
}

}  // namespace
}  // namespace brelay::relay
