// A damaged store against the real executable: a byte flipped in an event file, an event file cut
// short or deleted, and random bytes over each page of data.mdb in turn. Whatever reads the store
// (`binlog-relay dump`, `export`, `run` with `mariadb-binlog --read-from-remote-server` reading
// through it, SHOW BINLOG EVENTS) ends with a clear message and a non-zero exit status or ERR 1236,
// never a signal and never damaged bytes served; where the damage misses what the store uses (a
// page on LMDB's free list), the output is exactly the undamaged store's.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include <fmt/format.h>

#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/relay_command.h"
#include "tests/support/relay_process.h"
#include "tests/support/served_store.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBinlog = "apecloud-mysql57-gtid-row.000080";  // MySQL 5.7, CRC32
// An event of the fixture (a GTID event) and a byte inside its body.
constexpr std::uint64_t kDamagedEvent = 942;
constexpr std::uint64_t kDamagedByte = 1000;
constexpr std::size_t kPageSize = 4096;

// The exit status of a command that must end by itself, not by a signal.
void expect_clean_failure(const CommandOutput& output, const std::string& what) {
  EXPECT_GT(output.exit_status, 0) << what << ": " << output.err;
  EXPECT_LT(output.exit_status, 128) << what << " died of a signal: " << output.err;
  EXPECT_FALSE(output.err.empty()) << what << " failed without a message";
}

void copy_store(const std::string& from, const std::string& to) {
  std::filesystem::remove_all(to);
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  std::filesystem::remove(to + "/writer.lock");
}

void overwrite(const std::string& path, std::uint64_t offset, std::string_view bytes) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string random_page(std::uint32_t seed) {
  std::mt19937 random(seed);
  std::string page(kPageSize, '\0');
  for (char& c : page)
    c = static_cast<char>(random() & 0xff);
  return page;
}

class StoreDamage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = TempDir::create("store-damage");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    pristine_ = dir_->file("pristine");
    ASSERT_TRUE(seed_store(pristine_, {test_binlog(kBinlog)}));
    const CommandOutput dumped = relay_command({"dump", "--data-dir", pristine_});
    ASSERT_EQ(dumped.exit_status, 0) << dumped.err;
    baseline_dump_ = dumped.out;
    ASSERT_NE(baseline_dump_.find(fmt::format("{}\t{}\tGtid", kBinlog, kDamagedEvent)), std::string::npos)
        << baseline_dump_;
    auto fixture = read_file(test_binlog(kBinlog));
    ASSERT_TRUE(fixture);
    fixture_ = *fixture;
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // A copy of the pristine store to damage.
  std::string fresh_store(const std::string& name) {
    std::string path = dir_->file(name);
    copy_store(pristine_, path);
    return path;
  }

  TestRelayConfig relay_config(const std::string& data_dir) {
    TestRelayConfig config;
    config.data_dir = data_dir;
    config.listen = fmt::format("127.0.0.1:{}", free_loopback_port().value_or(0));
    config.source_port = free_loopback_port().value_or(1);  // no source there
    config.log_level = "info";
    return config;
  }

  static std::unique_ptr<TempDir> dir_;
  static std::string pristine_;
  static std::string baseline_dump_;
  static std::string fixture_;
};

std::unique_ptr<TempDir> StoreDamage::dir_;
std::string StoreDamage::pristine_;
std::string StoreDamage::baseline_dump_;
std::string StoreDamage::fixture_;

std::uint16_t port_of(const TestRelayConfig& config) {
  return static_cast<std::uint16_t>(std::stoi(config.listen.substr(config.listen.rfind(':') + 1)));
}

std::string curl(const std::string& url, int& status) {
  auto output =
      run_command({"curl", "--silent", "--max-time", "20", "--write-out", "\n%{http_code}", url}, {}, 60s);
  if (!output) return {};
  const auto last = output->out.rfind('\n');
  status = std::atoi(output->out.substr(last + 1).c_str());
  return output->out.substr(0, last);
}

TEST_F(StoreDamage, AFlippedByteInAnEventFileIsNeverServedListedOrExported) {
  const std::string data = fresh_store("flipped");
  const std::string event_file = data + "/events/0000000001.events";
  auto bytes = read_file(event_file);
  ASSERT_TRUE(bytes);
  overwrite(event_file, kDamagedByte, std::string(1, static_cast<char>((*bytes)[kDamagedByte] ^ 0x40)));
  const std::string place = fmt::format("position {} of '{}'", kDamagedEvent, kBinlog);

  const CommandOutput dumped = relay_command({"dump", "--data-dir", data});
  expect_clean_failure(dumped, "dump");
  EXPECT_NE(dumped.err.find(place), std::string::npos) << dumped.err;
  EXPECT_EQ(dumped.out.find(fmt::format("{}\t{}\t", kBinlog, kDamagedEvent)), std::string::npos)
      << "listed:\n"
      << dumped.out;

  const std::string out_dir = data + "-export";
  const CommandOutput exported = relay_command({"export", "--data-dir", data, "--out", out_dir});
  expect_clean_failure(exported, "export");
  EXPECT_NE(exported.err.find(place), std::string::npos) << exported.err;
  EXPECT_EQ(exported.out.find("complete"), std::string::npos) << exported.out;
  EXPECT_FALSE(std::filesystem::exists(out_dir + "/" + kBinlog));

  TestRelayConfig config = relay_config(data);
  config.metrics_listen = fmt::format("127.0.0.1:{}", free_loopback_port().value_or(0));
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();

  // A reader gets every event before the damaged one, then ERR 1236 naming the file and position
  // (no path of the relay's host), never the damaged bytes.
  std::vector<std::string> argv = mariadb_binlog_argv(port_of(config), "repl", "replpw");
  argv.emplace_back(kBinlog);
  auto read = run_command(argv, {}, 60s);
  ASSERT_TRUE(read) << read.error().message();
  expect_clean_failure(*read, "mariadb-binlog");
  EXPECT_NE(read->err.find("did not pass crc check"), std::string::npos) << read->err;
  EXPECT_NE(read->err.find(place), std::string::npos) << read->err;
  EXPECT_EQ(read->err.find("Event crc check failed"), std::string::npos) << read->err;
  EXPECT_EQ(read->err.find(data), std::string::npos) << "a server path reached the client: " << read->err;
  EXPECT_NE(read->out.find("end_log_pos 942"), std::string::npos) << "the events before it were not sent";

  auto listed =
      mariadb_sql(port_of(config), "admin", "adminpw", fmt::format("SHOW BINLOG EVENTS IN '{}'", kBinlog));
  ASSERT_TRUE(listed) << listed.error().message();
  expect_clean_failure(*listed, "SHOW BINLOG EVENTS");
  EXPECT_NE(listed->err.find("1220"), std::string::npos) << listed->err;
  EXPECT_NE(listed->err.find(place), std::string::npos) << listed->err;

  ASSERT_TRUE((*relay)->running());
  int status = 0;
  const std::string health = curl(fmt::format("http://{}/health", config.metrics_listen), status);
  EXPECT_EQ(status, 200) << health;  // not a liveness failure: a restart repairs nothing
  EXPECT_NE(health.find("store damaged: 1 damaged stored event"), std::string::npos) << health;
  EXPECT_NE(health.find(place), std::string::npos) << health;
  const std::string metrics = curl(fmt::format("http://{}/metrics", config.metrics_listen), status);
  EXPECT_NE(metrics.find("\nbinlog_relay_store_corrupt_events_total 1\n"), std::string::npos) << metrics;
  auto shown = mariadb_sql(port_of(config), "admin", "adminpw", "SHOW RELAY STATUS");
  ASSERT_TRUE(shown);
  EXPECT_NE(shown->out.find("Store_Damage\t1 damaged stored event"), std::string::npos) << shown->out;
  const std::string log = (*relay)->log();
  EXPECT_NE(log.find("error dump for 127.0.0.1"), std::string::npos) << log;
  EXPECT_NE(log.find("stored copy of the event at " + place + " is damaged"), std::string::npos) << log;
  auto stopped = (*relay)->stop();
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 0);
}

// The checked mark (store_reader.h) lives with the map of a file: once the readers that checked
// the file are gone, a byte flipped since is found by the next reader, never served.
TEST_F(StoreDamage, AByteFlippedAfterEarlierReadersCheckedItIsCaughtOnceTheyAreGone) {
  const std::string data = fresh_store("flipped-after-check");
  const TestRelayConfig config = relay_config(data);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  std::vector<std::string> argv = mariadb_binlog_argv(port_of(config), "repl", "replpw");
  argv.emplace_back(kBinlog);
  for (int reader = 0; reader < 2; ++reader) {
    auto intact = run_command(argv, {}, 60s);
    ASSERT_TRUE(intact) << intact.error().message();
    ASSERT_EQ(intact->exit_status, 0) << intact->err;
  }
  const std::string event_file = data + "/events/0000000001.events";
  overwrite(event_file, kDamagedByte, std::string(1, static_cast<char>(fixture_[kDamagedByte] ^ 0x40)));
  auto read = run_command(argv, {}, 60s);
  ASSERT_TRUE(read) << read.error().message();
  expect_clean_failure(*read, "mariadb-binlog");
  EXPECT_NE(read->err.find("did not pass crc check"), std::string::npos) << read->err;
  EXPECT_NE(read->err.find(fmt::format("position {} of '{}'", kDamagedEvent, kBinlog)), std::string::npos)
      << read->err;
  EXPECT_TRUE((*relay)->running());
  auto stopped = (*relay)->stop();
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 0);
}

// A store whose event file is cut short or gone: every reader says so and exits non-zero; the
// relay refuses to start on it.
void expect_every_reader_refuses(const std::string& data, const std::string& needle,
                                 const TestRelayConfig& config) {
  const CommandOutput dumped = relay_command({"dump", "--data-dir", data});
  expect_clean_failure(dumped, "dump");
  EXPECT_NE(dumped.err.find(needle), std::string::npos) << dumped.err;
  const CommandOutput exported = relay_command({"export", "--data-dir", data, "--out", data + "-export"});
  expect_clean_failure(exported, "export");
  EXPECT_NE(exported.err.find(needle), std::string::npos) << exported.err;
  const std::string config_path = data + ".toml";
  ASSERT_TRUE(write_file(config_path, config.to_toml()));
  const CommandOutput run = relay_command({"run", "--config", config_path});
  expect_clean_failure(run, "run");
  EXPECT_NE(run.err.find(needle), std::string::npos) << run.err;
}

TEST_F(StoreDamage, ATruncatedEventFileIsAnErrorEverywhere) {
  const std::string data = fresh_store("truncated");
  std::filesystem::resize_file(data + "/events/0000000001.events", 1500);
  expect_every_reader_refuses(data, "has 1500 bytes", relay_config(data));
}

TEST_F(StoreDamage, ADeletedEventFileIsAnErrorEverywhere) {
  const std::string data = fresh_store("deleted");
  std::filesystem::remove(data + "/events/0000000001.events");
  expect_every_reader_refuses(data, "missing", relay_config(data));
}

// An event file cut short while the relay has it open and mapped (a reader waits at its end): the
// next reader's read of the vanished bytes comes back short (a copied batch; a view of the map, for
// an event larger than a reader's buffer, would fault with SIGBUS and be caught as in
// stored_event_check_test), reported as damage and turned into ERR 1236.
TEST_F(StoreDamage, AnEventFileCutShortWhileMappedEndsTheDumpNotTheRelay) {
  const std::string data = fresh_store("cut-while-mapped");
  const TestRelayConfig config = relay_config(data);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  auto dir = TempDir::create("store-damage-waiting");
  ASSERT_TRUE(dir);
  ProcessOptions waiting;
  waiting.argv = mariadb_binlog_argv(port_of(config), "repl", "replpw");
  waiting.argv.insert(waiting.argv.end(),
                      {"--raw", "--stop-never", "--result-file=" + dir->path() + "/", kBinlog});
  auto waiter = Process::start(waiting);
  ASSERT_TRUE(waiter) << waiter.error().message();
  // The waiting reader has read the whole file (so the relay holds its map) when its copy is complete.
  for (int i = 0; i < 600 && read_file(dir->file(kBinlog)).value_or("").size() < fixture_.size(); ++i)
    std::this_thread::sleep_for(50ms);
  ASSERT_EQ(read_file(dir->file(kBinlog)).value_or(""), fixture_);

  std::filesystem::resize_file(data + "/events/0000000001.events", 0);
  std::vector<std::string> argv = mariadb_binlog_argv(port_of(config), "repl", "replpw");
  argv.emplace_back(kBinlog);
  auto read = run_command(argv, {}, 60s);
  ASSERT_TRUE(read) << read.error().message();
  expect_clean_failure(*read, "mariadb-binlog");
  EXPECT_NE(read->err.find("I/O error reading log event"), std::string::npos) << read->err;
  EXPECT_NE(read->err.find("it is damaged"), std::string::npos) << read->err;
  EXPECT_EQ(read->err.find(data), std::string::npos) << read->err;
  EXPECT_TRUE((*relay)->running()) << (*relay)->log();
  EXPECT_NE((*relay)->log().find("can no longer be read"), std::string::npos) << (*relay)->log();
  waiter->stop(5s).value_or(0);
  auto stopped = (*relay)->stop();
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 0);
}

// Random bytes over page i of data.mdb, for every i: a clear error, or (a page the store does not
// use) exactly what the undamaged store gives.
TEST_F(StoreDamage, RandomBytesOverEachPageOfTheIndexAreAnErrorOrHarmless) {
  const auto pages = std::filesystem::file_size(pristine_ + "/data.mdb") / kPageSize;
  ASSERT_GE(pages, 4u);
  int refused = 0;
  for (std::uint64_t page = 0; page < pages; ++page) {
    SCOPED_TRACE(fmt::format("page {} of {}", page, pages));
    const std::string data = fresh_store(fmt::format("page-{}", page));
    overwrite(data + "/data.mdb", page * kPageSize, random_page(static_cast<std::uint32_t>(page) + 1));

    const CommandOutput dumped = relay_command({"dump", "--data-dir", data});
    EXPECT_LT(dumped.exit_status, 128) << "dump died of a signal";
    if (dumped.exit_status != 0) {
      ++refused;
      EXPECT_EQ(dumped.exit_status, 1);
      EXPECT_TRUE(dumped.err.find("damaged") != std::string::npos) << dumped.err;
    } else {
      EXPECT_EQ(dumped.out, baseline_dump_);
    }
    const std::string out_dir = data + "-export";
    const CommandOutput exported = relay_command({"export", "--data-dir", data, "--out", out_dir});
    EXPECT_LT(exported.exit_status, 128) << "export died of a signal";
    EXPECT_EQ(exported.exit_status != 0, dumped.exit_status != 0) << exported.err;
    if (exported.exit_status == 0) {
      EXPECT_EQ(read_file(out_dir + "/" + kBinlog).value_or(""), fixture_);
    } else {
      EXPECT_NE(exported.err.find("damaged"), std::string::npos) << exported.err;
    }

    // The relay on it: refuses to start with the same message, or serves the stream unchanged.
    const TestRelayConfig config = relay_config(data);
    const std::string config_path = data + ".toml";
    ASSERT_TRUE(write_file(config_path, config.to_toml()));
    auto relay = RelayProcess::launch(config_path);
    ASSERT_TRUE(relay) << relay.error().message();
    auto ready = (*relay)->wait_for_notification("READY=1", 60s);
    if (!ready) {
      auto status = (*relay)->wait(30s);
      ASSERT_TRUE(status) << status.error().message();
      EXPECT_EQ(*status, 1) << (*relay)->log();
      EXPECT_NE((*relay)->log().find("damaged"), std::string::npos) << (*relay)->log();
      EXPECT_NE(dumped.exit_status, 0) << "run refused what dump read";
      continue;
    }
    EXPECT_EQ(dumped.exit_status, 0) << "run started on what dump refused";
    auto raw_dir = TempDir::create("store-damage-raw");
    ASSERT_TRUE(raw_dir);
    std::vector<std::string> argv = mariadb_binlog_argv(port_of(config), "repl", "replpw");
    argv.insert(argv.end(), {"--raw", "--result-file=" + raw_dir->path() + "/", kBinlog});
    auto read = run_command(argv, {}, 60s);
    ASSERT_TRUE(read) << read.error().message();
    EXPECT_EQ(read->exit_status, 0) << read->err;
    EXPECT_EQ(read_file(raw_dir->file(kBinlog)).value_or(""), fixture_);
    auto stopped = (*relay)->stop();
    ASSERT_TRUE(stopped);
    EXPECT_EQ(*stopped, 0) << (*relay)->log();
  }
  EXPECT_GT(refused, 0) << "no page was in use";
}

}  // namespace
}  // namespace brelay::testing
