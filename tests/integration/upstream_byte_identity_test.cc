// The upstream against a real MariaDB source: the real binlog-relay pulls the source's binlog while
// sysbench oltp_write_only writes to it, the source rotates its files (a small max_binlog_size and
// FLUSH BINARY LOGS), and a transaction of more than 16 MiB (one of its row events alone over
// 16 MiB, so it spans several protocol packets) passes through. Every file the relay stored, written
// out as a binlog file, must equal the source's own file byte for byte. Shown by file and position,
// by GTID (with a SIGKILL in between, so the relay resumes by GTID), and from a start_file /
// start_position on an empty store.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "tests/integration/upstream_harness.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kTables = 2;
constexpr int kTableSize = 10000;

MariaDbOptions source_options() {
  MariaDbOptions options;
  options.server_id = 1;
  options.max_binlog_size = 1 << 20;
  return options;
}

TestRelayConfig relay_config(const TempDir& dir, const MariaDbServer& source, std::string source_extra = "") {
  TestRelayConfig config;
  config.data_dir = dir.file("data");
  config.source_port = source.port();
  config.source_extra = "heartbeat_period = \"500ms\"\nreconnect_max_delay = \"2s\"\n" + source_extra;
  return config;
}

// A transaction of 20 row events of 1 MiB each, then one statement whose single row event is 17 MiB.
Status write_large_transactions(MariaDbServer& source) {
  BRELAY_TRY(
      source.execute("CREATE DATABASE IF NOT EXISTS big; "
                     "CREATE TABLE IF NOT EXISTS big.blobs (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB"));
  BRELAY_TRY(source.execute(
      "USE big; BEGIN; INSERT INTO blobs SELECT seq, REPEAT(CHAR(65 + seq % 26), 1048576) FROM seq_1_to_20; "
      "COMMIT"));
  BRELAY_TRY(source.execute("INSERT INTO big.blobs VALUES (100, REPEAT('y', 17 * 1048576))"));
  return {};
}

void expect_identical_files(MariaDbServer& source, const std::string& data_dir, const TempDir& dir,
                            std::size_t at_least_files, RelayProcess* relay) {
  auto comparison = compare_closed_files(source, data_dir, dir.path());
  ASSERT_TRUE(comparison) << comparison.error().message();
  EXPECT_GE(comparison->compared, at_least_files) << relay_log_tail(relay);
  EXPECT_TRUE(comparison->differences.empty())
      << fmt::format("{}", fmt::join(comparison->differences, "\n")) << relay_log_tail(relay);
}

TEST(UpstreamByteIdentity, FilePositionDumpStoresTheSourcesFilesByteForByteUnderLoad) {
  auto dir = TempDir::create("upstream-identity");
  ASSERT_TRUE(dir);
  auto started = MariaDbServer::start(source_options());
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;
  ASSERT_TRUE(sysbench_prepare(source, kTables, kTableSize));

  TestRelayConfig config = relay_config(*dir, source);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();

  auto load = start_sysbench(source, kTables, kTableSize, 6, 2, dir->file("sysbench.log"));
  ASSERT_TRUE(load) << load.error().message();
  {
    auto written = write_large_transactions(source);
    ASSERT_TRUE(written) << written.error().message();
  }
  ASSERT_TRUE(source.execute("FLUSH BINARY LOGS"));
  auto finished = load->wait(60s);
  ASSERT_TRUE(finished) << finished.error().message();
  EXPECT_EQ(*finished, 0) << read_file(dir->file("sysbench.log")).value_or("");

  ASSERT_TRUE(flush_and_catch_up(source, config.data_dir, 60s, relay->get()));
  expect_identical_files(source, config.data_dir, *dir, 5, relay->get());
  const std::string log = (*relay)->log();
  EXPECT_NE(log.find("upstream: connected to"), std::string::npos) << log;
  EXPECT_NE(log.find("rotated to"), std::string::npos) << log;

  auto status = (*relay)->stop();
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << (*relay)->log();
}

TEST(UpstreamByteIdentity, GtidDumpResumesByGtidAfterSigkill) {
  auto dir = TempDir::create("upstream-identity-gtid");
  ASSERT_TRUE(dir);
  auto started = MariaDbServer::start(source_options());
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;
  ASSERT_TRUE(sysbench_prepare(source, kTables, kTableSize));

  TestRelayConfig config = relay_config(*dir, source, "gtid = true\n");
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  auto load = start_sysbench(source, kTables, kTableSize, 8, 2, dir->file("sysbench.log"));
  ASSERT_TRUE(load) << load.error().message();
  std::this_thread::sleep_for(2s);
  // Killed in the middle of the load: the next relay resumes by GTID inside the file it was in. A
  // kill that lands right after a stored ROTATE leaves a closed file, from which the relay asks for
  // the next file by name (binlog_stream_handler.h): then it is killed again, until a restart shows
  // the GTID resume.
  // The first RelayProcess owns the config file: every relay is kept until the end of the test.
  std::vector<std::unique_ptr<RelayProcess>> relays;
  relays.push_back(std::move(*relay));
  RelayProcess* current = relays.back().get();
  bool resumed_by_gtid = false;
  for (int kills = 0; kills < 6 && !resumed_by_gtid; ++kills) {
    if (kills > 0) std::this_thread::sleep_for(300ms);
    current->kill();
    ASSERT_TRUE(current->wait(10s));
    auto restarted = RelayProcess::launch(current->config_path());
    ASSERT_TRUE(restarted) << restarted.error().message();
    relays.push_back(std::move(*restarted));
    current = relays.back().get();
    auto ready = current->wait_for_notification("READY=1", 30s);
    ASSERT_TRUE(ready) << ready.error().message();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (current->log().find(", pulling from ") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    resumed_by_gtid = current->log().find("pulling from GTID state") != std::string::npos;
  }
  EXPECT_TRUE(resumed_by_gtid) << current->log();
  {
    auto written = write_large_transactions(source);
    ASSERT_TRUE(written) << written.error().message();
  }
  auto finished = load->wait(60s);
  ASSERT_TRUE(finished);

  ASSERT_TRUE(flush_and_catch_up(source, config.data_dir, 60s, current));
  expect_identical_files(source, config.data_dir, *dir, 3, current);

  // The stored GTID state is the source's binlog position.
  auto end = stored_end(config.data_dir);
  ASSERT_TRUE(end && *end);
  auto source_pos = source.query("SELECT @@gtid_binlog_pos");
  ASSERT_TRUE(source_pos);
  EXPECT_EQ(std::string(as_text((*end)->executed_gtid_set)), (*source_pos)[0][0]);
}

TEST(UpstreamByteIdentity, StartFileAndPositionAreHonouredOnAnEmptyStore) {
  auto dir = TempDir::create("upstream-start");
  ASSERT_TRUE(dir);
  auto started = MariaDbServer::start(source_options());
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;
  ASSERT_TRUE(source.execute("CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v INT)"));
  ASSERT_TRUE(source.execute("FLUSH BINARY LOGS"));
  ASSERT_TRUE(source.execute("INSERT INTO shop.t VALUES (1, 1); INSERT INTO shop.t VALUES (2, 2)"));
  // Start at the second transaction of mysql-bin.000002.
  auto events = source.query("SHOW BINLOG EVENTS IN 'mysql-bin.000002'");
  ASSERT_TRUE(events) << events.error().message();
  std::vector<std::uint64_t> gtid_positions;
  for (const auto& row : *events) {
    if (row.at(2) == "Gtid") gtid_positions.push_back(std::stoull(row.at(1)));
  }
  ASSERT_EQ(gtid_positions.size(), 2u);
  const std::uint64_t start = gtid_positions[1];

  TestRelayConfig config = relay_config(
      *dir, source, fmt::format("start_file = \"mysql-bin.000002\"\nstart_position = {}\n", start));
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  ASSERT_TRUE(source.execute(
      "INSERT INTO shop.t VALUES (3, 3); FLUSH BINARY LOGS; INSERT INTO shop.t VALUES (4, 4)"));
  ASSERT_TRUE(flush_and_catch_up(source, config.data_dir, 30s, relay->get()));

  auto files = stored_files(config.data_dir);
  ASSERT_TRUE(files) << files.error().message();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].name, "mysql-bin.000002");
  EXPECT_EQ((*files)[0].first_position, start);
  EXPECT_TRUE((*files)[0].closed);
  // The stored bytes of mysql-bin.000002 are the source's bytes from `start` on.
  auto exported = compare_stored_events(config.data_dir, "mysql-bin.000002",
                                        source.binlog_path("mysql-bin.000002"), dir->path());
  ASSERT_TRUE(exported) << exported.error().message();
  EXPECT_EQ(*exported, "");
  // Later files are whole.
  expect_identical_files(source, config.data_dir, *dir, 1, relay->get());
}

}  // namespace
}  // namespace brelay::testing
