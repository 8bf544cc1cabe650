// The upstream through crashes and restarts, against a real MariaDB source under sysbench load:
//  - the source is restarted twice and the relay is killed with SIGKILL ten times (and started
//    again) while the load runs; after catching up, every stored file is byte-identical to the
//    source's: no gap, no duplicate, no half transaction;
//  - after the relay pulled everything, PURGE BINARY LOGS removes it all from the source: the relay
//    restarts and keeps serving its data; a relay that needs a purged file stops pulling with the
//    "purged" error, saying what is missing, and keeps running.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "tests/integration/upstream_harness.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kTables = 2;
constexpr int kTableSize = 10000;

// sysbench in short rounds until stopped: a round fails while the source restarts, the next one
// connects again.
class LoadLoop {
 public:
  LoadLoop(MariaDbServer& source, std::string log_path) : source_(source), log_path_(std::move(log_path)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        auto round = start_sysbench(source_, kTables, kTableSize, 2, 2, log_path_);
        if (!round) break;
        auto finished = round->wait(60s);
        if (finished && *finished == 0) ++rounds_ok_;
        if (!finished || *finished != 0) std::this_thread::sleep_for(200ms);
      }
    });
  }
  ~LoadLoop() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int rounds_ok() const { return rounds_ok_.load(); }

 private:
  MariaDbServer& source_;
  std::string log_path_;
  std::atomic<bool> stop_{false};
  std::atomic<int> rounds_ok_{0};
  std::thread thread_;
};

// PURGE BINARY LOGS TO `file`, retried for a while: the source keeps a file until InnoDB has
// flushed the commits it logged (once a second with innodb_flush_log_at_trx_commit = 2).
Status purge_to(MariaDbServer& source, const std::string& file) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    BRELAY_TRY(source.execute(fmt::format("PURGE BINARY LOGS TO '{}'", file)));
    BRELAY_ASSIGN_OR_RETURN(std::vector<std::string> left, binary_logs(source));
    if (!left.empty() && left.front() == file) return {};
    std::this_thread::sleep_for(200ms);
  }
  return make_error("the source kept its binlogs before {} after PURGE BINARY LOGS", file);
}

TestRelayConfig relay_config(const TempDir& dir, const MariaDbServer& source) {
  TestRelayConfig config;
  config.data_dir = dir.file("data");
  config.source_port = source.port();
  config.source_extra = "heartbeat_period = \"500ms\"\nreconnect_max_delay = \"1s\"\n";
  return config;
}

TEST(UpstreamRecovery, SourceRestartsAndRelaySigkillsDuringLoadLoseNothingAndDuplicateNothing) {
  auto dir = TempDir::create("upstream-recovery");
  ASSERT_TRUE(dir);
  MariaDbOptions options;
  options.max_binlog_size = 1 << 20;
  auto started = MariaDbServer::start(options);
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;
  ASSERT_TRUE(sysbench_prepare(source, kTables, kTableSize));

  TestRelayConfig config = relay_config(*dir, source);
  // The configuration lives in the test's directory: every relay started below reads it.
  const std::string config_path = dir->file("relay.toml");
  ASSERT_TRUE(write_file(config_path, config.to_toml()));
  auto relay = RelayProcess::launch(config_path);
  ASSERT_TRUE(relay) << relay.error().message();
  std::unique_ptr<RelayProcess> current = std::move(*relay);
  ASSERT_TRUE(current->wait_for_notification("READY=1", 30s));

  LoadLoop load(source, dir->file("sysbench.log"));
  int source_restarts = 0;
  for (int kill = 1; kill <= 10; ++kill) {
    std::this_thread::sleep_for(1200ms);
    current->kill();
    ASSERT_TRUE(current->wait(10s));
    if (kill == 3 || kill == 7) {
      // The source restarts (cleanly: it ends its file with a STOP event and opens a new one)
      // while the relay is down; the next relay starts while the source comes back.
      ASSERT_TRUE(source.restart()) << source.error_log_tail();
      ++source_restarts;
    }
    auto next = RelayProcess::launch(config_path);
    ASSERT_TRUE(next) << next.error().message();
    current = std::move(*next);
    auto ready = current->wait_for_notification("READY=1", 30s);
    ASSERT_TRUE(ready) << ready.error().message();
  }
  std::this_thread::sleep_for(1s);
  load.stop();
  EXPECT_EQ(source_restarts, 2);
  EXPECT_GT(load.rounds_ok(), 3) << read_file(dir->file("sysbench.log")).value_or("");

  auto caught_up = flush_and_catch_up(source, config.data_dir, 120s, current.get());
  ASSERT_TRUE(caught_up) << caught_up.error().message();
  auto comparison = compare_closed_files(source, config.data_dir, dir->path());
  ASSERT_TRUE(comparison) << comparison.error().message();
  EXPECT_GE(comparison->compared, 5u);
  EXPECT_TRUE(comparison->differences.empty())
      << fmt::format("{}", fmt::join(comparison->differences, "\n")) << relay_log_tail(current.get());
  // Every file of the source is stored, from the first one on.
  auto source_files = binary_logs(source);
  auto files = stored_files(config.data_dir);
  ASSERT_TRUE(source_files && files);
  ASSERT_EQ(files->size(), source_files->size());
  for (std::size_t i = 0; i < files->size(); ++i)
    EXPECT_EQ((*files)[i].name, (*source_files)[i]);
  auto stopped = current->stop();
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 0);
}

TEST(UpstreamRecovery, PurgedSourceBinlogsStopThePullWithAPurgedErrorWhileTheStoreKeepsItsData) {
  auto dir = TempDir::create("upstream-purge");
  ASSERT_TRUE(dir);
  auto started = MariaDbServer::start({});
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;
  ASSERT_TRUE(source.execute("CREATE DATABASE p; CREATE TABLE p.t (id INT PRIMARY KEY, v TEXT)"));
  for (int file = 0; file < 3; ++file) {
    ASSERT_TRUE(
        source.execute(fmt::format("INSERT INTO p.t VALUES ({0}, 'row {0}'); FLUSH BINARY LOGS", file)));
  }
  TestRelayConfig config = relay_config(*dir, source);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  ASSERT_TRUE(flush_and_catch_up(source, config.data_dir, 30s, relay->get()));
  // Keep copies of the source's files, then purge every one the relay has (all but the newest).
  auto before = binary_logs(source);
  ASSERT_TRUE(before);
  ASSERT_GE(before->size(), 4u);
  const std::string copies = dir->file("copies");
  std::filesystem::create_directories(copies);
  for (const std::string& name : *before)
    std::filesystem::copy_file(source.binlog_path(name), copies + "/" + name);
  ASSERT_EQ(*(*relay)->stop(), 0);
  ASSERT_TRUE(purge_to(source, before->back()));

  // The relay restarts and keeps its data: every purged file is still stored byte for byte, and
  // it keeps pulling from the newest file.
  relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  ASSERT_TRUE(source.execute("INSERT INTO p.t VALUES (100, 'after the purge')"));
  ASSERT_TRUE(flush_and_catch_up(source, config.data_dir, 30s, relay->get()));
  for (std::size_t i = 0; i + 1 < before->size(); ++i) {
    auto same =
        compare_stored_events(config.data_dir, (*before)[i], copies + "/" + (*before)[i], dir->path());
    ASSERT_TRUE(same) << same.error().message();
    EXPECT_EQ(*same, "");
  }
  auto files = stored_files(config.data_dir);
  ASSERT_TRUE(files);
  EXPECT_EQ(files->size(), before->size() + 1);
  EXPECT_EQ((*relay)->log().find("purged"), std::string::npos) << (*relay)->log();

  // A relay on an empty store asked to start from a purged file: the "purged" error, and it keeps
  // running (serving what it has, here nothing).
  auto empty_dir = TempDir::create("upstream-purge-empty");
  ASSERT_TRUE(empty_dir);
  TestRelayConfig from_purged = relay_config(*empty_dir, source);
  from_purged.source_extra += "start_file = \"mysql-bin.000001\"\n";
  auto stuck = RelayProcess::start(from_purged);
  ASSERT_TRUE(stuck) << stuck.error().message();
  auto status = (*stuck)->wait_for_notification("STATUS=upstream stopped", 30s);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_NE(status->find("the source purged binlogs the relay needs"), std::string::npos) << *status;
  EXPECT_NE(status->find("mysql-bin.000001 from position 4"), std::string::npos) << *status;
  EXPECT_NE(status->find(fmt::format("now begin with {}", before->back())), std::string::npos) << *status;
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE((*stuck)->running());
  EXPECT_NE((*stuck)->log().find("purged"), std::string::npos);
  ASSERT_EQ(*(*stuck)->stop(), 0);

  // The first relay, stopped while the source purges the file it is in: the same error on restart.
  ASSERT_EQ(*(*relay)->stop(), 0);
  auto last_stored = stored_files(config.data_dir);
  ASSERT_TRUE(last_stored);
  const std::string needed = last_stored->back().name;
  ASSERT_TRUE(source.execute(
      "INSERT INTO p.t VALUES (101, 'x'); FLUSH BINARY LOGS; INSERT INTO p.t VALUES (102, 'y')"));
  auto newest = binary_logs(source);
  ASSERT_TRUE(newest);
  ASSERT_TRUE(purge_to(source, newest->back()));
  relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  status = (*relay)->wait_for_notification("STATUS=upstream stopped", 30s);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_NE(status->find("the source purged binlogs the relay needs"), std::string::npos) << *status;
  EXPECT_NE(status->find(fmt::format("the relay needs {} from position", needed)), std::string::npos)
      << *status;
  // The stored data is still there.
  auto still = stored_files(config.data_dir);
  ASSERT_TRUE(still);
  EXPECT_EQ(still->size(), before->size() + 1);
}

}  // namespace
}  // namespace brelay::testing
