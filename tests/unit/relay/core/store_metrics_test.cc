// StoreMetrics on a real store and writer: the figures a scrape shows move as commits flow, and the
// rendering is valid Prometheus text.
#include "relay/core/store_metrics.h"

#include <gtest/gtest.h>

#include "tests/support/paths.h"
#include "tests/support/prometheus_text.h"
#include "tests/support/store_seed.h"
#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

TEST(StoreMetrics, ScrapedValuesMoveAsCommitsFlow) {
  auto dir = testing::TempDir::create("store-metrics");
  ASSERT_TRUE(dir);
  auto store = storage::BinlogStore::open(dir->file("data"));
  ASSERT_TRUE(store) << store.error().message();
  MetricsRegistry registry;
  StoreMetrics metrics(registry, **store);

  auto scrape = [&] {
    auto parsed = testing::parse_prometheus_text(registry.render());
    EXPECT_TRUE(parsed) << parsed.error().message();
    return parsed ? *parsed : testing::PrometheusScrape{};
  };
  const testing::PrometheusScrape empty = scrape();
  EXPECT_EQ(empty.value("binlog_relay_store_bytes"), 0.0);
  EXPECT_EQ(empty.value("binlog_relay_store_files"), 0.0);
  EXPECT_EQ(empty.value("binlog_relay_store_commits_total"), 0.0);
  EXPECT_EQ(empty.value("binlog_relay_store_fsync_seconds_count"), 0.0);
  EXPECT_EQ(empty.value("binlog_relay_store_writer_accepting"), 1.0);
  EXPECT_EQ(empty.families.at("binlog_relay_store_fsync_seconds").type, "histogram");
  EXPECT_EQ(empty.families.at("binlog_relay_store_commits_total").type, "counter");
  EXPECT_GT(*empty.value("binlog_relay_store_filesystem_free_bytes"), 0.0);

  // A writer that records into the metrics, as the daemon starts it.
  const std::string path = testing::source_dir() + "/tests/data/binlogs/apecloud-mysql57-gtid-row.000080";
  auto seeded = testing::seed_store_from_binlogs(**store, {path}, metrics.commit_observer());
  ASSERT_TRUE(seeded) << seeded.error().message();
  const testing::PrometheusScrape after = scrape();
  const auto size = testing::read_file(path)->size();
  EXPECT_EQ(after.value("binlog_relay_store_bytes"), static_cast<double>(size - 4));
  EXPECT_EQ(after.value("binlog_relay_store_committed_bytes_total"), static_cast<double>(size - 4));
  EXPECT_EQ(after.value("binlog_relay_store_files"), 1.0);
  EXPECT_GT(*after.value("binlog_relay_store_committed_events_total"), 10.0);
  const double commits = *after.value("binlog_relay_store_commits_total");
  EXPECT_GE(commits, 1.0);
  EXPECT_EQ(after.value("binlog_relay_store_fsync_seconds_count"), commits);
  EXPECT_EQ(after.value("binlog_relay_store_commit_seconds_count"), commits);
  EXPECT_GT(*after.value("binlog_relay_store_fsync_seconds_sum"), 0.0);
  // The oldest retained event is the file's first: its timestamp, from the header.
  EXPECT_GT(*after.value("binlog_relay_store_oldest_event_timestamp_seconds"), 1.6e9);
  EXPECT_GE(*after.value("binlog_relay_store_durable_timestamp_seconds"),
            *after.value("binlog_relay_store_oldest_event_timestamp_seconds"));

  storage::StoreWriter::Progress stopped;
  stopped.accepting = false;
  metrics.on_progress(stopped);
  metrics.on_progress(stopped);
  const testing::PrometheusScrape failed = scrape();
  EXPECT_EQ(failed.value("binlog_relay_store_writer_accepting"), 0.0);
  EXPECT_EQ(failed.value("binlog_relay_errors_total", {{"kind", "storage_writer"}}), 1.0);
}

}  // namespace
}  // namespace brelay::relay
