// Compression of sealed files against a real MariaDB source and the real executable (issue 17): a
// relay with [storage] compression = "zstd", compress_after = "4s" (and, in the Encrypted variant, an
// encryption key file: compress, then encrypt) stores a sysbench history, then bulk inserts up to at
// least 14 MiB, that the source writes in files of 1 MiB. While the history is written and its
// sealed files are compressed one after the other, `mariadb-binlog --read-from-remote-server --raw`
// pulls from the oldest file on, over and over; one more pull goes through a proxy that holds the
// relay's bytes until a file was swapped under its dump; and a MariaDB replica replicates through
// the relay from the first file. Then:
//   - the sealed files are stored compressed (`.events.zst`, their `.events` gone, the status row);
//   - every pull gave the source's files byte for byte (the files closed when compared whole, the
//     file still being written as a prefix), also the pulls that overlapped a swap;
//   - files were swapped while dumps were reading them (the relay's log says so);
//   - the replica ends with the source's GTID position and table checksums;
//   - `binlog-relay export` after a restart gives the source's files byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "tests/integration/upstream_harness.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/relay_command.h"
#include "tests/support/relay_process.h"
#include "tests/support/served_store.h"
#include "tests/support/single_value.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kTables = 2;
constexpr int kTableSize = 5000;
constexpr const char* kKey = "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

Rows checksums(MariaDbServer& server) {
  auto rows = server.query("CHECKSUM TABLE sbtest.sbtest1, sbtest.sbtest2");
  EXPECT_TRUE(rows) << rows.error().message();
  return rows ? *rows : Rows();
}

std::size_t count_suffix(const std::string& dir, std::string_view suffix) {
  std::size_t count = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    count += entry.path().filename().string().ends_with(suffix) ? 1 : 0;
  return count;
}

// The kernel's largest TCP send buffer (net.ipv4.tcp_wmem's third value).
std::uint64_t max_send_buffer() {
  std::ifstream in("/proc/sys/net/ipv4/tcp_wmem");
  std::uint64_t low = 0, initial = 0, high = 4u << 20;
  in >> low >> initial >> high;
  return high;
}

std::size_t count_occurrences(const std::string& text, std::string_view what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++count;
  return count;
}

class StoreCompression : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("store-compression");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    MariaDbOptions options;
    options.server_id = 1;
    options.max_binlog_size = 1 << 20;
    auto source = MariaDbServer::start(options);
    ASSERT_TRUE(source) << source.error().message();
    source_ = std::move(*source);
  }

  TestRelayConfig relay_config() {
    TestRelayConfig config;
    config.source_port = source_->port();
    config.data_dir = dir_->file("data");
    config.listen = fmt::format("127.0.0.1:{}", free_loopback_port().value_or(0));
    config.source_extra = "heartbeat_period = \"500ms\"\n";
    config.storage_extra = "compression = \"zstd\"\ncompression_level = 19\ncompress_after = \"4s\"\n";
    if (GetParam()) {
      const std::string key_file = dir_->file("keys");
      Status written = write_file(key_file, std::string(kKey) + "\n");
      EXPECT_TRUE(written) << written.error().message();
      config.storage_extra += fmt::format("encryption_key_file = \"{}\"\n", key_file);
    }
    config.log_level = "info";
    return config;
  }
  static std::uint16_t port_of(const TestRelayConfig& config) {
    return static_cast<std::uint16_t>(std::stoi(config.listen.substr(config.listen.rfind(':') + 1)));
  }

  // One pull of every file from the oldest on into `out_dir`; "" or what went wrong.
  std::string pull(std::uint16_t port, const std::string& first_file, const std::string& out_dir) {
    std::filesystem::create_directories(out_dir);
    std::vector<std::string> argv = mariadb_binlog_argv(port, "repl", "replpw");
    argv.insert(argv.end(), {"--raw", "--to-last-log", "--result-file=" + out_dir + "/", first_file});
    auto read = run_command(argv, {}, 60s);
    if (!read) return read.error().message();
    if (read->exit_status != 0) return "mariadb-binlog failed: " + read->err;
    return "";
  }

  // Every pulled file equals the source's: the last one pulled may be a prefix (the relay's newest
  // file as the pull found it), every earlier one is whole.
  void expect_pulled_identical(const std::string& out_dir) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(out_dir))
      files.push_back(entry.path().filename().string());
    std::ranges::sort(files);
    ASSERT_GE(files.size(), 2u) << out_dir;
    for (std::size_t i = 0; i < files.size(); ++i) {
      const std::string& file = files[i];
      auto served = read_file(out_dir + "/" + file);
      auto original = read_file(source_->binlog_path(file));
      ASSERT_TRUE(served && original) << file;
      if (i + 1 < files.size()) {
        EXPECT_TRUE(*served == *original) << out_dir << ": " << file << " differs from the source's";
      } else {
        ASSERT_LE(served->size(), original->size()) << file;
        EXPECT_TRUE(original->compare(0, served->size(), *served) == 0)
            << out_dir << ": " << file << " is not a prefix of the source's";
      }
    }
  }

  // The size of the source's binlog files together.
  std::uint64_t source_binlog_bytes() {
    auto rows = source_->query("SHOW BINARY LOGS");
    std::uint64_t bytes = 0;
    if (rows) {
      for (const auto& row : *rows)
        bytes += row.size() > 1 ? std::stoull(row[1]) : 0;
    }
    return bytes;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<MariaDbServer> source_;
};

TEST_P(StoreCompression, SealedFilesAreCompressedAndServedByteIdenticalAlsoDuringTheSwap) {
  ASSERT_TRUE(sysbench_prepare(*source_, kTables, kTableSize));
  auto logs = binary_logs(*source_);
  ASSERT_TRUE(logs && !logs->empty());
  const std::string first_file = logs->front();
  TestRelayConfig config = relay_config();
  const std::uint16_t port = port_of(config);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();

  auto replica = [] {
    MariaDbOptions options;
    options.server_id = 21;
    options.log_bin = false;
    return MariaDbServer::start(options);
  }();
  ASSERT_TRUE(replica) << replica.error().message();
  auto load = start_sysbench(*source_, kTables, kTableSize, 8, 2, dir_->file("sysbench.log"));
  ASSERT_TRUE(load) << load.error().message();
  std::this_thread::sleep_for(2s);
  ASSERT_TRUE((*replica)->execute(
      fmt::format("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', "
                  "MASTER_PASSWORD='replpw', "
                  "MASTER_LOG_FILE='{}', MASTER_LOG_POS=4, MASTER_USE_GTID=no; START SLAVE",
                  port, first_file)));

  // A pull of the whole history through a proxy that stops forwarding the relay's bytes once the
  // dump has started: the relay's socket fills (the proxy's receive buffer towards it is small and
  // locked, the relay's send buffer is at most net.ipv4.tcp_wmem's 4 MiB) and the dump stalls a few
  // files into the history, holding a sealed file that is compressed under it. The proxy lets the
  // bytes through again once the relay logged such a swap, and the pull goes on to the end.
  auto proxy = FaultProxy::start("127.0.0.1", port, {});
  ASSERT_TRUE(proxy) << proxy.error().message();
  (*proxy)->set_server_receive_buffer(16 * 1024);
  const std::string paused_dir = dir_->file("pull-paused");
  std::filesystem::create_directories(paused_dir);
  std::vector<std::string> paused_argv = mariadb_binlog_argv((*proxy)->port(), "repl", "replpw");
  paused_argv.insert(paused_argv.end(),
                     {"--raw", "--to-last-log", "--result-file=" + paused_dir + "/", first_file});
  ProcessOptions paused_options;
  paused_options.argv = paused_argv;
  paused_options.stdout_path = dir_->file("pull-paused.out");
  paused_options.stderr_path = dir_->file("pull-paused.err");
  auto paused = Process::start(paused_options);
  ASSERT_TRUE(paused) << paused.error().message();
  for (int i = 0; i < 200 && (*proxy)->server_bytes_forwarded() < 64 * 1024; ++i)
    std::this_thread::sleep_for(10ms);
  (*proxy)->hold_server_to_client(true);
  ASSERT_GE((*proxy)->server_bytes_forwarded(), 64u * 1024) << "the held pull's dump did not start";

  // Pulls from the oldest file on, back to back in two threads, while files are sealed and swapped.
  std::atomic<bool> loading{true};
  std::vector<std::string> pulled_dirs[2];
  std::vector<std::string> failures[2];
  std::vector<std::thread> pullers;
  for (int t = 0; t < 2; ++t) {
    pullers.emplace_back([&, t] {
      for (int round = 0; loading.load() || round < 2; ++round) {
        const std::string out = dir_->file(fmt::format("pull-{}-{}", t, round));
        if (std::string failed = pull(port, first_file, out); !failed.empty()) failures[t].push_back(failed);
        pulled_dirs[t].push_back(out);
        std::this_thread::sleep_for(300ms);
      }
    });
  }
  auto finished = load->wait(90s);
  // However fast the load ran, the history grows well past what the held dump's socket buffers
  // take (the relay's send buffer, at most net.ipv4.tcp_wmem's maximum, 4 MiB by default, past
  // where it was held), so that its file is a sealed one. (No ASSERT until the pullers are joined.)
  const std::uint64_t history_bytes = std::max<std::uint64_t>(14u << 20, max_send_buffer() + (10u << 20));
  EXPECT_TRUE(source_->execute("CREATE TABLE sbtest.filler (id INT AUTO_INCREMENT PRIMARY KEY, b BLOB)"));
  for (int i = 0; i < 128 && source_binlog_bytes() < history_bytes; ++i) {
    Status inserted = source_->execute(
        "INSERT INTO sbtest.filler (b) SELECT REPEAT(MD5(RAND()), 16) FROM sbtest.seq_1_to_2000");
    EXPECT_TRUE(inserted) << inserted.error().message();
    if (!inserted) break;
  }
  EXPECT_GE(source_binlog_bytes(), history_bytes);
  // The held dump's file is compressed (compress_after after it was last written) while the dump
  // holds it: the relay's log counts the readers of a file it swapped.
  std::size_t swapped_while_read = 0;
  for (int i = 0; i < 1200 && swapped_while_read == 0; ++i) {
    swapped_while_read = count_occurrences((*relay)->log(), " readers read it");
    if (swapped_while_read == 0) std::this_thread::sleep_for(100ms);
  }
  std::cout << "files swapped while dumps read them: " << swapped_while_read << "\n";
  EXPECT_GE(swapped_while_read, 1u) << "no file was swapped while a dump read it";
  loading = false;
  for (std::thread& puller : pullers)
    puller.join();
  (*proxy)->hold_server_to_client(false);
  auto paused_exit = paused->wait(60s);
  ASSERT_TRUE(paused_exit) << paused_exit.error().message();
  EXPECT_EQ(*paused_exit, 0) << read_file(dir_->file("pull-paused.err")).value_or("");
  ASSERT_TRUE(finished) << finished.error().message();
  EXPECT_EQ(*finished, 0) << read_file(dir_->file("sysbench.log")).value_or("");
  for (const auto& failed : failures)
    EXPECT_TRUE(failed.empty()) << failed.front();

  ASSERT_TRUE(source_->execute("FLUSH BINARY LOGS"));
  auto caught_up = wait_for_relay_catch_up(*source_, port, 60s, relay->get());
  ASSERT_TRUE(caught_up) << caught_up.error().message();
  auto now_logs = binary_logs(*source_);
  ASSERT_TRUE(now_logs);
  const std::vector<std::string> closed(now_logs->begin(), now_logs->end() - 1);
  ASSERT_GE(closed.size(), 5u);
  std::size_t pulls = 0;
  for (const auto& dirs : pulled_dirs) {
    for (const std::string& out : dirs) {
      expect_pulled_identical(out);
      ++pulls;
    }
  }
  EXPECT_GE(pulls, 4u);
  expect_pulled_identical(paused_dir);

  // The sealed files are compressed (the newest is still being written).
  const std::string events = config.data_dir + "/events";
  std::string log;
  for (int i = 0; i < 300; ++i) {
    if (count_suffix(events, ".events.zst") >= closed.size() && count_suffix(events, ".events") == 1) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(count_suffix(events, ".events"), 1u);
  EXPECT_GE(count_suffix(events, ".events.zst"), closed.size());
  log = (*relay)->log();
  EXPECT_NE(log.find("compression: sealed files last written more than 4 s ago"), std::string::npos) << log;
  EXPECT_GE(count_occurrences(log, "compressed " + first_file + ":"), 1u) << log;
  auto status = mariadb_cli_query(port, "admin", "adminpw", "SHOW RELAY STATUS");
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_NE(status->find("Compressed_Files"), std::string::npos) << *status;

  // The replica applied the whole history.
  const std::string source_gtid = single_value(*source_, "SELECT @@gtid_binlog_pos");
  std::map<std::string, std::string> replica_status;
  for (int i = 0; i < 600; ++i) {
    replica_status = slave_status(**replica);
    if (replica_status["Last_IO_Errno"] != "0" || replica_status["Last_SQL_Errno"] != "0") break;
    if (single_value(**replica, "SELECT @@gtid_slave_pos") == source_gtid) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(single_value(**replica, "SELECT @@gtid_slave_pos"), source_gtid)
      << replica_status["Last_IO_Error"] << replica_status["Last_SQL_Error"];
  EXPECT_EQ(checksums(**replica), checksums(*source_));

  // After a restart, export (which reads the frames) gives the source's files.
  ASSERT_TRUE((*relay)->stop());
  const std::string exported = dir_->file("exported");
  std::vector<std::string> args = {"export", "--data-dir", config.data_dir, "--out", exported, "--quiet"};
  if (GetParam()) args.insert(args.end(), {"--key-file", dir_->file("keys")});
  const CommandOutput export_run = relay_command(args);
  EXPECT_EQ(export_run.exit_status, 0) << export_run.err;
  for (const std::string& file : closed) {
    auto out = read_file(exported + "/" + file);
    auto original = read_file(source_->binlog_path(file));
    ASSERT_TRUE(out && original) << file;
    EXPECT_TRUE(*out == *original) << file << " exported differs from the source's";
  }
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, StoreCompression, ::testing::Bool(),
                         [](const auto& test) { return test.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace brelay::testing
