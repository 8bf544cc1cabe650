// Encryption at rest against a real MariaDB source and the real executable (issue 17): a relay with
// [storage] encryption_key_file ingests a write history across a rotation; then
//   - no 64-byte window of any file under its data directory equals a 64-byte window of the source's
//     binlog files (and the scan does find the windows of a plain copy: it can fail);
//   - `mariadb-binlog --read-from-remote-server --raw` through the relay, and `binlog-relay export`,
//     give the source's files byte for byte;
//   - a byte flipped inside an indexed region of an event file: the reader gets an error, never the
//     bytes, and the relay's log names the file and position;
//   - a wrong key refuses the start naming the key id;
//   - `binlog-relay rekey` under a new key id appended to the key file, the old key removed, a
//     restart: the same bytes are served.
#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "tests/integration/upstream_harness.h"
#include "tests/support/process.h"
#include "tests/support/relay_command.h"
#include "tests/support/relay_process.h"
#include "tests/support/served_store.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kWindow = 64;
constexpr std::size_t kMinDistinctBytes = 8;
constexpr const char* kKey1 = "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* kKey2 = "2 a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
constexpr const char* kWrongKey1 = "1 ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

std::size_t distinct_bytes(std::string_view window) {
  std::array<bool, 256> seen{};
  std::size_t count = 0;
  for (char c : window) {
    bool& was = seen[static_cast<unsigned char>(c)];
    count += was ? 0 : 1;
    was = true;
  }
  return count;
}

// Every 64-byte window of the source's files, and a scan of files against them. Windows with fewer
// than kMinDistinctBytes different byte values (zero padding with a counter or two in it) are left
// out: they are structure, not data, and LMDB's meta, lock and free pages are made of them (a run
// found "0a" and 63 zero bytes both in the source's binlog and in data.mdb's meta page). Every
// window of the rows the test writes (hex digests), of statement text or of a row event has more.
class WindowSet {
 public:
  void add(std::string bytes) {
    sources_.push_back(std::move(bytes));
    const std::string& kept = sources_.back();
    for (std::size_t at = 0; at + kWindow <= kept.size(); ++at) {
      const std::string_view window = std::string_view(kept).substr(at, kWindow);
      if (distinct_bytes(window) < kMinDistinctBytes) continue;
      windows_.insert(window);
    }
  }
  // The offset of the first window of `bytes` found in the set, or npos.
  std::size_t first_match(std::string_view bytes) const {
    for (std::size_t at = 0; at + kWindow <= bytes.size(); ++at) {
      if (windows_.contains(bytes.substr(at, kWindow))) return at;
    }
    return std::string_view::npos;
  }
  std::size_t size() const { return windows_.size(); }

 private:
  std::deque<std::string> sources_;
  std::unordered_set<std::string_view> windows_;
};

// "" when no file under `dir` holds a window of `windows`, else the first file and offset found.
std::string scan_directory(const std::string& dir, const WindowSet& windows, std::size_t& files) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    auto bytes = read_file(entry.path().string());
    if (!bytes) return "cannot read " + entry.path().string();
    files += 1;
    const std::size_t at = windows.first_match(*bytes);
    if (at != std::string_view::npos) {
      return fmt::format("{} at offset {}: {}", entry.path().string(), at,
                         to_hex(as_bytes(std::string_view(*bytes).substr(at > 64 ? at - 64 : 0, 192))));
    }
  }
  return "";
}

class StoreEncryption : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("store-encryption");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    auto source = MariaDbServer::start();
    ASSERT_TRUE(source) << source.error().message();
    source_ = std::move(*source);
    key_file_ = dir_->file("keys");
    if (Status written = write_file(key_file_, std::string(kKey1) + "\n"); !written)
      FAIL() << written.error().message();
  }

  TestRelayConfig relay_config() {
    TestRelayConfig config;
    config.source_port = source_->port();
    config.data_dir = dir_->file("data");
    config.listen = fmt::format("127.0.0.1:{}", free_loopback_port().value_or(0));
    config.storage_extra = fmt::format("encryption_key_file = \"{}\"\n", key_file_);
    config.log_level = "info";
    return config;
  }
  std::uint16_t port_of(const TestRelayConfig& config) const {
    return static_cast<std::uint16_t>(std::stoi(config.listen.substr(config.listen.rfind(':') + 1)));
  }

  // Distinct row bytes (hex digests), so that every window of the source is worth finding.
  Status write_rows(int from, int count) {
    std::string sql = "USE shop;";
    for (int i = from; i < from + count; ++i) {
      sql += fmt::format("INSERT INTO t VALUES ({}, CONCAT(SHA2('{}', 512), SHA2('{}x', 512)));", i, i, i);
    }
    return source_->execute(sql);
  }

  Status wait_caught_up(std::uint16_t relay_port, RelayProcess* relay) {
    return wait_for_relay_catch_up(*source_, relay_port, std::chrono::seconds(30), relay);
  }

  // Reads `file` through the relay with mariadb-binlog --raw into `out_dir`.
  CommandOutput read_raw(std::uint16_t port, const std::string& file, const std::string& out_dir) {
    std::filesystem::create_directories(out_dir);
    std::vector<std::string> argv = mariadb_binlog_argv(port, "repl", "replpw");
    argv.insert(argv.end(), {"--raw", "--result-file=" + out_dir + "/", file});
    auto read = run_command(argv, {}, 60s);
    EXPECT_TRUE(read) << read.error().message();
    return read ? *read : CommandOutput{};
  }

  // Every closed source file read through the relay equals the source's file.
  void expect_served_identical(std::uint16_t port, const std::vector<std::string>& closed,
                               const std::string& out_dir) {
    for (const std::string& file : closed) {
      const CommandOutput read = read_raw(port, file, out_dir);
      ASSERT_EQ(read.exit_status, 0) << read.err;
      auto served = read_file(out_dir + "/" + file);
      auto original = read_file(source_->binlog_path(file));
      ASSERT_TRUE(served && original) << file;
      EXPECT_EQ(served->size(), original->size()) << file;
      EXPECT_TRUE(*served == *original) << file << " served differs from the source's";
    }
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<MariaDbServer> source_;
  std::string key_file_;
};

TEST_F(StoreEncryption, NothingPlainOnDiskIdenticalServedBytesDamageWrongKeyAndRekey) {
  ASSERT_TRUE(source_->execute("CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v TEXT)"));
  ASSERT_TRUE(write_rows(1, 40));
  TestRelayConfig config = relay_config();
  const std::uint16_t port = port_of(config);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  ASSERT_TRUE(source_->execute("FLUSH BINARY LOGS"));
  ASSERT_TRUE(write_rows(100, 40));
  ASSERT_TRUE(source_->execute("FLUSH BINARY LOGS"));
  ASSERT_TRUE(write_rows(200, 10));
  {
    Status caught_up = wait_caught_up(port, relay->get());
    ASSERT_TRUE(caught_up) << caught_up.error().message();
  }
  EXPECT_NE((*relay)->log().find("new files are encrypted under master key id 1"), std::string::npos)
      << (*relay)->log();
  auto logs = binary_logs(*source_);
  ASSERT_TRUE(logs);
  ASSERT_GE(logs->size(), 3u);
  const std::vector<std::string> closed(logs->begin(), logs->end() - 1);

  // (1) No window of the source's binlogs is anywhere under the data directory.
  WindowSet windows;
  for (const std::string& file : *logs) {
    auto bytes = read_file(source_->binlog_path(file));
    ASSERT_TRUE(bytes);
    windows.add(std::move(*bytes));
  }
  ASSERT_GT(windows.size(), 10000u);
  std::size_t scanned = 0;
  EXPECT_EQ(scan_directory(config.data_dir, windows, scanned), "");
  EXPECT_GE(scanned, 4u);  // data.mdb and the event files

  // (2) Served and exported bytes are the source's; the scan finds the plain copies (it can fail).
  expect_served_identical(port, closed, dir_->file("served"));
  std::size_t plain_files = 0;
  EXPECT_NE(scan_directory(dir_->file("served"), windows, plain_files), "");
  const std::string exported = dir_->file("exported");
  const CommandOutput export_run = relay_command(
      {"export", "--data-dir", config.data_dir, "--key-file", key_file_, "--out", exported, "--quiet"});
  EXPECT_EQ(export_run.exit_status, 0) << export_run.err;
  for (const std::string& file : closed) {
    auto out = read_file(exported + "/" + file);
    auto original = read_file(source_->binlog_path(file));
    ASSERT_TRUE(out && original) << file;
    EXPECT_TRUE(*out == *original) << file << " exported differs from the source's";
  }
  const CommandOutput no_key = relay_command({"export", "--data-dir", config.data_dir, "--out", exported});
  EXPECT_NE(no_key.exit_status, 0);
  EXPECT_NE(no_key.err.find("needs master key id 1"), std::string::npos) << no_key.err;

  // (3) A flipped byte inside the first file's stored events: an error to the reader, the file and
  // position in the log, never the bytes.
  ASSERT_TRUE((*relay)->stop());
  const std::string event_file = config.data_dir + "/events/0000000001.events";
  auto stored = read_file(event_file);
  ASSERT_TRUE(stored);
  const std::size_t flip_at = stored->size() / 2;
  auto flip = [&] {
    std::fstream f(event_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(flip_at));
    const char byte = static_cast<char>((*stored)[flip_at] ^ 0x40);
    f.write(&byte, 1);
    (*stored)[flip_at] = static_cast<std::uint8_t>(byte);
  };
  flip();
  relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  {
    const std::string damaged_dir = dir_->file("damaged");
    const CommandOutput read = read_raw(port, closed[0], damaged_dir);
    EXPECT_NE(read.exit_status, 0) << "the damaged file was served";
    EXPECT_NE(read.err.find("damaged"), std::string::npos) << read.err;
    auto partial = read_file(damaged_dir + "/" + closed[0]);
    auto original = read_file(source_->binlog_path(closed[0]));
    ASSERT_TRUE(original);
    if (partial) {
      EXPECT_LT(partial->size(), flip_at + 4) << "bytes past the damage were served";
    }
    const std::string log = (*relay)->log();
    EXPECT_NE(log.find(fmt::format("the stored bytes of {} from position", closed[0])), std::string::npos)
        << log;
    EXPECT_NE(log.find("MAC mismatch"), std::string::npos) << log;
  }
  ASSERT_TRUE((*relay)->stop());
  flip();  // back as it was

  // (4) The wrong key for id 1: the start is refused, naming the key id.
  if (Status written = write_file(key_file_, std::string(kWrongKey1) + "\n"); !written)
    FAIL() << written.error().message();
  auto refused = RelayProcess::start(config);
  ASSERT_FALSE(refused) << "started with the wrong key";
  EXPECT_NE(refused.error().message().find("master key id 1"), std::string::npos)
      << refused.error().message();

  // (5) rekey under a new id, then only the new key: the same bytes are served.
  if (Status written = write_file(key_file_, fmt::format("{}\n{}\n", kKey1, kKey2)); !written)
    FAIL() << written.error().message();
  auto config_path = std::filesystem::path(dir_->path()) / "rekey.toml";
  {
    std::ofstream out(config_path);
    out << config.to_toml();
  }
  const CommandOutput rekeyed = relay_command({"rekey", "--config", config_path.string()});
  EXPECT_EQ(rekeyed.exit_status, 0) << rekeyed.err;
  EXPECT_NE(rekeyed.out.find(fmt::format("rewrapped {} data keys under master key id 2", logs->size())),
            std::string::npos)
      << rekeyed.out;
  if (Status written = write_file(key_file_, std::string(kKey2) + "\n"); !written)
    FAIL() << written.error().message();
  relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  ASSERT_TRUE(write_rows(300, 5));
  {
    Status caught_up = wait_caught_up(port, relay->get());
    ASSERT_TRUE(caught_up) << caught_up.error().message();
  }
  expect_served_identical(port, closed, dir_->file("after-rekey"));
  ASSERT_TRUE((*relay)->stop());
}

}  // namespace
}  // namespace brelay::testing
