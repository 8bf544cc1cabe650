// Operations against the real executable: `binlog-relay import` of the MySQL 5.7 / 8.0 and MariaDB
// fixtures then `export` gives the files back byte for byte and `dump` lists their events; the
// relay's status through SHOW RELAY STATUS (the real `mariadb` client), GET /status and /metrics
// (curl) and `binlog-relay status` while it pulls from a real MariaDB source and serves a real
// `mariadb-binlog` reader, and from the store alone once it is stopped; retention purging the
// oldest files while the relay runs.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tests/integration/upstream_harness.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/relay_command.h"
#include "tests/support/relay_process.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

std::string fixture(const std::string& name) {
  return source_dir() + "/tests/data/binlogs/" + name;
}

std::string write_config(TempDir& dir, const TestRelayConfig& config) {
  const std::string path = dir.file("relay.toml");
  EXPECT_TRUE(write_file(path, config.to_toml()));
  return path;
}

// The value of `name` in "name: value" lines (status text) or "name\tvalue" rows (SQL --batch).
std::string row_value(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + ":", 0) == 0 || line.rfind(name + "\t", 0) == 0) {
      std::string value = line.substr(name.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "<no " + name + ">";
}

std::string curl(const std::string& url, int* status = nullptr) {
  auto output =
      run_command({"curl", "--silent", "--max-time", "20", "--write-out", "\n%{http_code}", url}, {}, 60s);
  EXPECT_TRUE(output) << output.error().message();
  if (!output) return {};
  const auto last = output->out.rfind('\n');
  if (status) *status = std::atoi(output->out.substr(last + 1).c_str());
  return output->out.substr(0, last);
}

// The value of an unlabelled sample in Prometheus text; -1 when absent.
double sample(const std::string& metrics, const std::string& name) {
  std::smatch match;
  if (!std::regex_search(metrics, match, std::regex("\n" + name + " ([0-9.e+]+)"))) return -1;
  return std::stod(match[1]);
}

TEST(Operations, ImportThenExportGivesTheFixturesBackByteForByteAndDumpListsThem) {
  for (const std::string name :
       {"apecloud-mysql80-gtid-zstd-compressed.000057", "apecloud-mysql57-gtid-row.000080",
        "shyiko-mysql57-row-checksum-none.binlog", "rust-mysql-common-mariadb105-gtid-row.000001"}) {
    SCOPED_TRACE(name);
    auto dir = TempDir::create("ops-import");
    ASSERT_TRUE(dir);
    TestRelayConfig config;
    config.data_dir = dir->file("data");
    const std::string config_path = write_config(*dir, config);

    const CommandOutput imported = relay_command({"import", "--config", config_path, fixture(name)}, 120s);
    ASSERT_EQ(imported.exit_status, 0) << imported.out << imported.err;
    std::smatch events;
    ASSERT_TRUE(std::regex_search(imported.out, events, std::regex(R"(imported 1 file\(s\): (\d+) events)")))
        << imported.out;

    // Importing the same file again would overlap what is stored: refused, and nothing changes.
    const CommandOutput again = relay_command({"import", "--config", config_path, fixture(name)}, 120s);
    EXPECT_NE(again.exit_status, 0) << again.out;
    EXPECT_FALSE(again.err.empty());

    const std::string out_dir = dir->file("out");
    const CommandOutput exported =
        relay_command({"export", "--data-dir", config.data_dir, "--out", out_dir}, 120s);
    ASSERT_EQ(exported.exit_status, 0) << exported.out << exported.err;
    auto original = read_file(fixture(name));
    ASSERT_TRUE(original);
    std::string file_name = name;
    if (name.find(".binlog") != std::string::npos) {
      // The file's own name is whatever its ROTATE/FDE say; export writes it under the stored name.
      std::filesystem::directory_iterator it(out_dir);
      ASSERT_NE(it, std::filesystem::directory_iterator());
      file_name = it->path().filename().string();
    }
    auto written = read_file(out_dir + "/" + file_name);
    ASSERT_TRUE(written) << written.error().message() << "\n" << exported.out;
    EXPECT_TRUE(*written == *original) << "export differs from the imported file (" << written->size()
                                       << " vs " << original->size() << " bytes)";

    const CommandOutput dumped = relay_command({"dump", "--data-dir", config.data_dir}, 120s);
    ASSERT_EQ(dumped.exit_status, 0) << dumped.err;
    std::size_t lines = 0;
    for (char c : dumped.out)
      lines += c == '\n';
    // One line per event, plus the header line.
    EXPECT_EQ(lines, std::stoull(events[1]) + 1) << dumped.out.substr(0, 2000);
  }
}

TEST(Operations, ImportOfAMissingFileOrABadConfigSaysWhat) {
  auto dir = TempDir::create("ops-import-bad");
  ASSERT_TRUE(dir);
  TestRelayConfig config;
  config.data_dir = dir->file("data");
  const std::string config_path = write_config(*dir, config);
  const CommandOutput missing =
      relay_command({"import", "--config", config_path, dir->file("nope.000001")}, 120s);
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_NE(missing.err.find("nope.000001 is not a readable file"), std::string::npos) << missing.err;
  const CommandOutput bad = relay_command(
      {"import", "--config", dir->file("absent.toml"), fixture("apecloud-mysql57-gtid-row.000080")}, 120s);
  EXPECT_EQ(bad.exit_status, 2);
}

class OperationsWithSource : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("ops-live");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    auto source = MariaDbServer::start();
    ASSERT_TRUE(source) << source.error().message();
    source_ = std::move(*source);
    ASSERT_TRUE(source_->execute("CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v TEXT)"));
  }

  TestRelayConfig relay_config() {
    TestRelayConfig config;
    config.source_port = source_->port();
    config.data_dir = dir_->file("data");
    auto port = free_loopback_port();
    EXPECT_TRUE(port);
    listen_port_ = port ? *port : 0;
    config.listen = fmt::format("127.0.0.1:{}", listen_port_);
    auto metrics_port = free_loopback_port();
    EXPECT_TRUE(metrics_port);
    metrics_port_ = metrics_port ? *metrics_port : 0;
    config.metrics_listen = fmt::format("127.0.0.1:{}", metrics_port_);
    config.log_level = "info";
    return config;
  }

  Status write_rows(int from, int count, std::size_t size) {
    std::string sql;
    for (int i = from; i < from + count; ++i)
      sql += fmt::format("INSERT INTO shop.t VALUES ({}, REPEAT('x', {}));", i, size);
    return source_->execute(sql);
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<MariaDbServer> source_;
  std::uint16_t listen_port_ = 0;
  std::uint16_t metrics_port_ = 0;
};

TEST_F(OperationsWithSource, StatusShowsUpstreamStoreAndReplicasEverywhereAndTheStoreWhenStopped) {
  ASSERT_TRUE(write_rows(1, 20, 100));
  TestRelayConfig config = relay_config();
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  ASSERT_TRUE(write_rows(100, 20, 100));
  ASSERT_TRUE(wait_for_catch_up(*source_, config.data_dir, 30s, relay->get()));
  auto master = master_status(*source_);
  ASSERT_TRUE(master);

  // A reader through the relay: mariadb-binlog following the stream.
  const std::string binlog_dir = dir_->file("reader");
  std::filesystem::create_directories(binlog_dir);
  ProcessOptions reader_options;
  reader_options.argv = {
      "mariadb-binlog",  "--read-from-remote-server", "--raw",
      "--stop-never",    "--host=127.0.0.1",          fmt::format("--port={}", listen_port_),
      "--user=repl",     "--password=replpw",         "--result-file=" + binlog_dir + "/",
      "mysql-bin.000001"};
  reader_options.stdout_path = dir_->file("reader.log");
  reader_options.stderr_path = dir_->file("reader.log");
  reader_options.append_output = true;
  auto reader = Process::start(reader_options);
  ASSERT_TRUE(reader) << reader.error().message();

  // GET /status and `binlog-relay status` say the same: streaming, stored up to the source, one replica.
  // Seconds_Behind_Source is now minus the last event's time until a heartbeat (heartbeat_period 1 s)
  // says the relay has all the source has: it may read 1 for that second after the inserts.
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text = curl(fmt::format("http://127.0.0.1:{}/status", metrics_port_));
    if (row_value(text, "Replicas") == "1" && text.find(", lag 0 s") != std::string::npos &&
        row_value(text, "Seconds_Behind_Source") == "0")
      break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(row_value(text, "Upstream_State"), "streaming") << text;
  EXPECT_EQ(row_value(text, "Stored_Coordinates"), fmt::format("{}:{}", master->first, master->second))
      << text;
  EXPECT_EQ(row_value(text, "Seconds_Behind_Source"), "0") << text;
  EXPECT_EQ(row_value(text, "Replicas"), "1") << text;
  EXPECT_NE(text.find("user repl"), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("at {}:{}, lag 0 s", master->first, master->second)), std::string::npos)
      << text;

  const CommandOutput status = relay_command({"status", "--config", (*relay)->config_path()}, 120s);
  EXPECT_EQ(status.exit_status, 0) << status.out << status.err;
  EXPECT_EQ(row_value(status.out, "Upstream_State"), "streaming") << status.out;
  EXPECT_EQ(row_value(status.out, "Source"), fmt::format("127.0.0.1:{}", source_->port())) << status.out;

  // SHOW RELAY STATUS with the real client, as the replica account.
  auto sql =
      run_command({"mariadb", "--host=127.0.0.1", fmt::format("--port={}", listen_port_), "--user=repl",
                   "--password=replpw", "--batch", "--skip-column-names", "-e", "SHOW RELAY STATUS"},
                  {}, 60s);
  ASSERT_TRUE(sql);
  EXPECT_EQ(sql->exit_status, 0) << sql->err;
  EXPECT_EQ(row_value(sql->out, "Upstream_State"), "streaming") << sql->out;
  EXPECT_EQ(row_value(sql->out, "Stored_Coordinates"), fmt::format("{}:{}", master->first, master->second));

  // The relay presents itself as its source: the same version to a MariaDB client.
  auto source_version = source_->query("SELECT VERSION()");
  ASSERT_TRUE(source_version);
  auto relay_version =
      run_command({"mariadb", "--host=127.0.0.1", fmt::format("--port={}", listen_port_), "--user=repl",
                   "--password=replpw", "--batch", "--skip-column-names", "-e", "SELECT VERSION()"},
                  {}, 60s);
  ASSERT_TRUE(relay_version);
  EXPECT_EQ(relay_version->out.substr(0, relay_version->out.find('\n')), source_version->at(0).at(0))
      << relay_version->out;

  // /metrics: the replica's series; /health: 200.
  const std::string metrics = curl(fmt::format("http://127.0.0.1:{}/metrics", metrics_port_));
  std::smatch sent;
  ASSERT_TRUE(std::regex_search(
      metrics, sent, std::regex(R"(binlog_relay_replica_sent_bytes\{[^}]*user="repl"[^}]*\} (\d+))")))
      << metrics;
  EXPECT_GE(std::stoull(sent[1]), master->second);
  EXPECT_NE(metrics.find("binlog_relay_sessions{state=\"dumping\"} 1"), std::string::npos);
  int health = 0;
  curl(fmt::format("http://127.0.0.1:{}/health", metrics_port_), &health);
  EXPECT_EQ(health, 200);

  // The values move as load flows.
  ASSERT_TRUE(write_rows(1000, 50, 300));
  ASSERT_TRUE(wait_for_catch_up(*source_, config.data_dir, 30s, relay->get()));
  std::string moved;
  std::smatch sent_after;
  for (int i = 0; i < 100; ++i) {
    moved = curl(fmt::format("http://127.0.0.1:{}/metrics", metrics_port_));
    if (std::regex_search(moved, sent_after,
                          std::regex(R"(binlog_relay_replica_sent_bytes\{[^}]*user="repl"[^}]*\} (\d+))")) &&
        std::stoull(sent_after[1]) > std::stoull(sent[1]))
      break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(sample(moved, "binlog_relay_received_events_total"),
            sample(metrics, "binlog_relay_received_events_total"));
  EXPECT_GT(sample(moved, "binlog_relay_received_bytes_total"),
            sample(metrics, "binlog_relay_received_bytes_total"));
  EXPECT_GT(sample(moved, "binlog_relay_store_commits_total"),
            sample(metrics, "binlog_relay_store_commits_total"));
  EXPECT_GT(sample(moved, "binlog_relay_store_bytes"), sample(metrics, "binlog_relay_store_bytes"));
  EXPECT_GT(sample(metrics, "binlog_relay_store_commits_total"), 0);
  ASSERT_FALSE(sent_after.empty());
  EXPECT_GT(std::stoull(sent_after[1]), std::stoull(sent[1]));

  // The reader goes: its series go with it.
  (void)reader->stop(10s);
  std::string after;
  for (int i = 0; i < 100; ++i) {
    after = curl(fmt::format("http://127.0.0.1:{}/metrics", metrics_port_));
    if (after.find("binlog_relay_replica_sent_bytes{") == std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(after.find("binlog_relay_replica_sent_bytes{"), std::string::npos);

  // Stopped: `status` says the relay does not answer (exit 3) and what the store holds.
  auto stopped = (*relay)->stop();
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 0);
  const CommandOutput offline = relay_command({"status", "--config", (*relay)->config_path()}, 120s);
  EXPECT_EQ(offline.exit_status, 3) << offline.out << offline.err;
  EXPECT_NE(offline.out.find("not reachable"), std::string::npos) << offline.out;
  auto final_master = master_status(*source_);
  ASSERT_TRUE(final_master);
  EXPECT_EQ(row_value(offline.out, "Stored_Coordinates"),
            fmt::format("{}:{}", final_master->first, final_master->second))
      << offline.out;
}

TEST_F(OperationsWithSource, RetentionBySizePurgesTheOldestFilesWhileTheRelayRuns) {
  TestRelayConfig config = relay_config();
  config.storage_extra = "retention_time = \"0\"\nretention_size = \"64KiB\"\n";
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  // Six files of ~40 KiB each: the size limit keeps the newest one or two.
  for (int file = 0; file < 6; ++file) {
    ASSERT_TRUE(write_rows(file * 100, 20, 2000));
    ASSERT_TRUE(source_->execute("FLUSH BINARY LOGS"));
  }
  ASSERT_TRUE(wait_for_catch_up(*source_, config.data_dir, 30s, relay->get()));
  auto logs = binary_logs(*source_);
  ASSERT_TRUE(logs);
  std::vector<storage::FileInfo> files;
  for (int i = 0; i < 100; ++i) {
    auto stored = stored_files(config.data_dir);
    ASSERT_TRUE(stored);
    files = *stored;
    std::uint64_t older = 0;
    for (std::size_t f = 0; f + 1 < files.size(); ++f)
      older += files[f].stored_bytes();
    if (older <= 64 * 1024 && files.size() < logs->size()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(files.empty());
  EXPECT_LT(files.size(), logs->size());
  EXPECT_EQ(files.back().name, logs->back()) << "the newest file is never purged";
  std::uint64_t total = 0;
  for (const auto& file : files)
    total += file.stored_bytes();
  EXPECT_TRUE(total <= 64 * 1024 || files.size() == 1) << total << " bytes in " << files.size() << " files";
  const std::string metrics = curl(fmt::format("http://127.0.0.1:{}/metrics", metrics_port_));
  std::smatch purged;
  ASSERT_TRUE(
      std::regex_search(metrics, purged, std::regex(R"(binlog_relay_retention_purged_files_total (\d+))")));
  EXPECT_EQ(std::stoull(purged[1]), logs->size() - files.size());
  EXPECT_NE((*relay)->log().find("retention: purged"), std::string::npos);
}

TEST_F(OperationsWithSource, SigtermDuringLoadExitsZeroAndLosesNothing) {
  ASSERT_TRUE(sysbench_prepare(*source_, 2, 5000));
  TestRelayConfig config = relay_config();
  const std::string config_path = dir_->file("relay.toml");
  ASSERT_TRUE(write_file(config_path, config.to_toml()));
  auto launched = RelayProcess::launch(config_path);
  ASSERT_TRUE(launched) << launched.error().message();
  std::unique_ptr<RelayProcess> relay = std::move(*launched);
  ASSERT_TRUE(relay->wait_for_notification("READY=1", 30s));

  auto load = start_sysbench(*source_, 2, 5000, 8, 2, dir_->file("sysbench.log"));
  ASSERT_TRUE(load) << load.error().message();
  for (int stop = 0; stop < 3; ++stop) {
    std::this_thread::sleep_for(1500ms);
    auto status = relay->stop(30s);  // SIGTERM: finish the commit in flight, close sessions, exit 0
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_EQ(*status, 0) << relay->log();
    EXPECT_NE(relay->log().find("received SIGTERM"), std::string::npos);
    auto next = RelayProcess::launch(config_path);
    ASSERT_TRUE(next) << next.error().message();
    relay = std::move(*next);
    ASSERT_TRUE(relay->wait_for_notification("READY=1", 30s));
  }
  auto finished = load->wait(60s);
  ASSERT_TRUE(finished);
  EXPECT_EQ(*finished, 0) << read_file(dir_->file("sysbench.log")).value_or("");

  ASSERT_TRUE(flush_and_catch_up(*source_, config.data_dir, 60s, relay.get()));
  auto comparison = compare_closed_files(*source_, config.data_dir, dir_->path());
  ASSERT_TRUE(comparison) << comparison.error().message();
  EXPECT_GE(comparison->compared, 1u);
  EXPECT_TRUE(comparison->differences.empty()) << fmt::format("{}", fmt::join(comparison->differences, "\n"));
}

}  // namespace
}  // namespace brelay::testing
