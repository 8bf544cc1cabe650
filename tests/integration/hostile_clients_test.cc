// Issue 19's combined acceptance: every attack of the issue, one after the other, against one real
// relay that is live between a real MariaDB source and a real MariaDB replica (the canary), while
// a writer inserts a numbered row into the source every 100 ms and a checker polls the replica
// every 50 ms for the newest row. A second canary, `mariadb-binlog --read-from-remote-server
// --raw --stop-never`, streams the same binlog from the relay. The attacks:
//  (1) SELECT with 20,000 nested parentheses: 1064;
//  (2) SHOW VARIABLES LIKE '%_%_..._#' three times, and a 4,000-character pattern: empty answers;
//  (5) 500 wrong passwords from 127.0.0.2: 1045 for max_connect_errors of them, then 1129 (also
//      for the right password), while 127.0.0.1 (the canary's address) still logs in; an admin's
//      FLUSH HOSTS lets 127.0.0.2 in again;
//  (6) 40 silent connections from 127.0.0.3, five times max_unauthenticated_connections: a
//      normal login still succeeds;
//  (7) a 24 MiB statement with max_allowed_packet = 16 MiB: 1153; a 100 KB @slave_connect_state:
//      the dump's refusal within MySQL's 512 bytes;
//  (8) 90 idle connections on the metrics port: /health still answers 200.
// After all of them: the relay is the same process; the canary's lag (from the insert on the
// source to the row being visible on the replica) stayed under 1 s throughout; the replica has no
// replication error and the source's row count and table checksum; mariadb-binlog has every
// byte of the source's binlog; the relay's peak RSS (VmHWM) stayed under
// kRssBound = 64 MiB + max_allowed_packet + 48 MiB = 128 MiB (measured: about 12 MiB before the
// attacks, 29 MiB after them; with max_allowed_packet = 1 GiB the 24 MiB statement alone takes
// it to 165 MiB; the regression reached 1.39 GB). The lag's bound is the issue's: 1 s
// (measured: 100-150 ms, i.e. the 100 ms between inserts and the 50 ms between polls).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "net/blocking_client.h"
#include "net/replication_commands.h"
#include "tests/support/http_client.h"
#include "tests/support/login_helpers.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/raw_mysql_client.h"
#include "tests/support/raw_tcp_client.h"
#include "tests/support/relay_process.h"
#include "tests/support/served_store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxAllowedPacket = 16 * 1024 * 1024;
constexpr std::size_t kRssBoundKib = (64 * 1024 * 1024 + kMaxAllowedPacket + 48 * 1024 * 1024) / 1024;
constexpr int kMaxConnectErrors = 5;
constexpr auto kLagBound = 1000ms;

std::unique_ptr<net::BlockingClient> login(std::uint16_t port, const std::string& user,
                                           const std::string& password) {
  return plain_login(port, user, password, 20s);
}

std::string single_value(net::BlockingClient& client, const std::string& sql) {
  auto rows = client.query_rows(sql);
  EXPECT_TRUE(rows) << sql << ": " << rows.error().message();
  return rows && !rows->rows.empty() ? rows->rows[0].at(0).value_or("") : "";
}

// The writer and the checker: rows numbered 1, 2, ... into the source every 100 ms; the newest
// number visible on the replica every 50 ms, the lag of each row newly seen recorded.
class Canary {
 public:
  Canary(std::uint16_t source_port, std::uint16_t replica_port)
      : source_(login(source_port, "root", "")), replica_(login(replica_port, "root", "")) {}
  ~Canary() { stop(); }
  Canary(const Canary&) = delete;
  Canary& operator=(const Canary&) = delete;

  bool ready() const { return source_ && replica_; }
  void start() {
    writer_ = std::thread([this] { write(); });
    checker_ = std::thread([this] { check(); });
  }
  void stop() {
    stopping_ = true;
    if (writer_.joinable()) writer_.join();
    if (checker_.joinable()) checker_.join();
  }
  std::int64_t written() {
    std::lock_guard lock(mutex_);
    return static_cast<std::int64_t>(sent_.size());
  }
  std::int64_t seen() const { return seen_; }
  Clock::duration max_lag() const { return Clock::duration(max_lag_.load()); }
  std::string error() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  void write() {
    while (!stopping_) {
      const auto sent = Clock::now();
      std::int64_t seq = 0;
      {
        std::lock_guard lock(mutex_);
        sent_.push_back(sent);
        seq = static_cast<std::int64_t>(sent_.size());
      }
      auto done = source_->query(fmt::format("INSERT INTO canary.t VALUES ({}, REPEAT('x', 200))", seq));
      if (!done) return fail("insert: " + done.error().message());
      std::this_thread::sleep_until(sent + 100ms);
    }
  }
  void check() {
    while (!stopping_) {
      const auto polled = Clock::now();
      auto rows = replica_->query_rows("SELECT COALESCE(MAX(seq), 0) FROM canary.t");
      if (!rows) return fail("poll: " + rows.error().message());
      const std::int64_t newest = std::stoll(rows->rows.at(0).at(0).value_or("0"));
      const auto now = Clock::now();
      std::lock_guard lock(mutex_);
      for (std::int64_t seq = seen_ + 1; seq <= newest; ++seq) {
        const auto lag = (now - sent_.at(static_cast<std::size_t>(seq - 1))).count();
        if (lag > max_lag_) max_lag_ = lag;
      }
      if (newest > seen_) seen_ = newest;
      std::this_thread::sleep_until(polled + 50ms);
    }
  }
  void fail(const std::string& what) {
    std::lock_guard lock(mutex_);
    error_ = what;
  }

  std::unique_ptr<net::BlockingClient> source_;
  std::unique_ptr<net::BlockingClient> replica_;
  std::mutex mutex_;
  std::vector<Clock::time_point> sent_;
  std::atomic<std::int64_t> seen_{0};
  std::atomic<Clock::rep> max_lag_{0};
  std::string error_;
  std::atomic<bool> stopping_{false};
  std::thread writer_;
  std::thread checker_;
};

std::uint64_t directory_bytes(const std::string& directory) {
  std::uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory))
    total += entry.file_size();
  return total;
}

std::uint64_t source_binlog_bytes(MariaDbServer& source) {
  auto rows = source.query("SHOW BINARY LOGS");
  EXPECT_TRUE(rows) << rows.error().message();
  std::uint64_t total = 0;
  for (const auto& row : rows.value_or(Rows()))
    total += std::stoull(row.at(1));
  return total;
}

class HostileClients : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("hostile-clients");
    ASSERT_TRUE(dir) << dir.error().message();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    MariaDbOptions source_options;
    source_options.server_id = 1;
    source_options.gtid_domain_id = 0;
    auto source = MariaDbServer::start(source_options);
    ASSERT_TRUE(source) << source.error().message();
    source_ = std::move(*source);
    ASSERT_TRUE(source_->execute(
        "CREATE DATABASE canary; CREATE TABLE canary.t (seq BIGINT PRIMARY KEY, pad VARCHAR(255))"));

    metrics_port_ = free_loopback_port().value_or(1);
    relay_port_ = free_loopback_port().value_or(1);
    TestRelayConfig config;
    config.data_dir = dir_->file("relay-data");
    config.source_port = source_->port();
    config.source_extra = "heartbeat_period = \"500ms\"\nreconnect_max_delay = \"1s\"\n";
    config.listen = fmt::format("127.0.0.1:{}", relay_port_);
    config.metrics_listen = fmt::format("127.0.0.1:{}", metrics_port_);
    config.log_level = "info";
    config.server_extra = fmt::format(
        "max_allowed_packet = \"16MiB\"\nmax_unauthenticated_connections = 8\nmax_connect_errors = {}\n"
        "connect_timeout = \"5s\"\n",
        kMaxConnectErrors);
    auto relay = RelayProcess::start(config);
    ASSERT_TRUE(relay) << relay.error().message();
    relay_ = std::move(*relay);

    MariaDbOptions replica_options;
    replica_options.server_id = 11;
    replica_options.log_bin = false;
    auto replica = MariaDbServer::start(replica_options);
    ASSERT_TRUE(replica) << replica.error().message();
    replica_ = std::move(*replica);
    ASSERT_TRUE(replica_->execute(fmt::format(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', "
        "MASTER_PASSWORD='replpw', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos; START SLAVE",
        relay_port_)));
    ASSERT_TRUE(wait_until(
        [&] {
          auto rows = replica_->query("SELECT COUNT(*) FROM canary.t");
          return rows && !rows->empty();
        },
        60s))
        << "the replica did not get the canary table: " << slave_status(*replica_)["Last_IO_Error"];

    // The second canary: mariadb-binlog from the relay, raw, never stopping.
    binlog_dir_ = dir_->file("binlog-canary");
    std::filesystem::create_directories(binlog_dir_);
    auto files = source_->query("SHOW BINARY LOGS");
    ASSERT_TRUE(files && !files->empty());
    ProcessOptions reader;
    reader.argv = mariadb_binlog_argv(relay_port_, "repl", "replpw");
    reader.argv.insert(reader.argv.end(),
                       {"--raw", "--to-last-log", "--stop-never", "--stop-never-slave-server-id=21",
                        "--result-file=" + binlog_dir_ + "/", files->front().at(0)});
    reader.stderr_path = dir_->file("binlog-canary.err");
    auto binlog_reader = Process::start(reader);
    ASSERT_TRUE(binlog_reader) << binlog_reader.error().message();
    binlog_reader_.emplace(std::move(*binlog_reader));
  }

  void expect_relay_up(const char* after) {
    ASSERT_TRUE(relay_->running()) << "after " << after << "\n" << relay_->log();
    EXPECT_EQ(relay_->pid(), relay_pid_) << after;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<MariaDbServer> source_;
  std::unique_ptr<RelayProcess> relay_;
  std::unique_ptr<MariaDbServer> replica_;
  std::optional<Process> binlog_reader_;
  std::string binlog_dir_;
  std::uint16_t relay_port_ = 0;
  std::uint16_t metrics_port_ = 0;
  pid_t relay_pid_ = -1;
};

void nested_parentheses(std::uint16_t port) {
  auto client = login(port, "repl", "replpw");
  ASSERT_TRUE(client);
  auto reply = client->query("SELECT " + repeat("(", 20'000) + "1" + repeat(")", 20'000));
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code(), 1064) << reply.error().message();
  EXPECT_EQ(single_value(*client, "SELECT 1"), "1");
}

void like_patterns(std::uint16_t port) {
  auto client = login(port, "repl", "replpw");
  ASSERT_TRUE(client);
  const std::string attack = "SHOW VARIABLES LIKE '%_%_%_%_%_%_%_%_%_%_%_%_%_%_%_%_#'";
  for (const std::string& sql :
       {attack, attack, attack, "SHOW VARIABLES LIKE '" + repeat("%_", 2000) + "#'"}) {
    auto rows = client->query_rows(sql);
    ASSERT_TRUE(rows) << rows.error().message();
    EXPECT_TRUE(rows->rows.empty());
  }
}

void brute_force(std::uint16_t port, const std::function<void()>& while_blocked) {
  int denied = 0;
  int blocked = 0;
  for (int i = 0; i < 500; ++i) {
    auto wrong = RawMysqlClient::connect(port, i % 2 == 0 ? "repl" : "nobody", "wrong", "127.0.0.2");
    ASSERT_FALSE(wrong);
    if (wrong.error().code() == 1045) ++denied;
    if (wrong.error().code() == 1129) ++blocked;
  }
  EXPECT_EQ(denied, kMaxConnectErrors);
  EXPECT_EQ(blocked, 500 - kMaxConnectErrors);
  auto right = RawMysqlClient::connect(port, "repl", "replpw", "127.0.0.2");
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().code(), 1129) << right.error().message();
  // Only the attacker's address is blocked: the canary's still logs in.
  EXPECT_TRUE(RawMysqlClient::connect(port, "repl", "replpw", "127.0.0.1"));
  while_blocked();
  auto admin = login(port, "admin", "adminpw");
  ASSERT_TRUE(admin);
  auto flushed = admin->query("FLUSH HOSTS");
  ASSERT_TRUE(flushed) << flushed.error().message();
  auto again = RawMysqlClient::connect(port, "repl", "replpw", "127.0.0.2");
  EXPECT_TRUE(again) << again.error().message();
}

void silent_burst(std::uint16_t port) {
  std::vector<std::unique_ptr<RawTcpClient>> silent;
  for (int i = 0; i < 40; ++i) {
    silent.push_back(std::make_unique<RawTcpClient>(port, "127.0.0.3"));
    ASSERT_TRUE(silent.back()->connected()) << i;
  }
  auto client = login(port, "repl", "replpw");
  ASSERT_TRUE(client) << "no login during a burst of silent connections";
  EXPECT_EQ(single_value(*client, "SELECT 1"), "1");
}

void oversized(std::uint16_t port, const std::string& binlog_file) {
  auto client = login(port, "repl", "replpw");
  ASSERT_TRUE(client);
  auto reply = client->query("SELECT '" + std::string(24 * 1024 * 1024, 'x') + "'");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code(), 1153) << reply.error().message();

  auto dumper = login(port, "repl", "replpw");
  ASSERT_TRUE(dumper);
  const std::string state = "0-1-1," + std::string(100'000, ' ') + "0-1-2";
  ASSERT_TRUE(dumper->query("SET @slave_connect_state = '" + state + "'"));
  ASSERT_TRUE(dumper->query("SET @mariadb_slave_capability = 4"));
  net::BinlogDump dump;
  dump.server_id = 777;
  dump.file_name = binlog_file;
  dump.position = 4;
  auto refused = dumper->command(net::encode_binlog_dump(dump));
  ASSERT_FALSE(refused);
  EXPECT_LE(dumper->async().last_server_error()->message.size(), 511u);
}

void idle_metrics_connections(std::uint16_t metrics_port) {
  std::vector<std::unique_ptr<RawTcpClient>> idle;
  for (int i = 0; i < 90; ++i) {
    idle.push_back(std::make_unique<RawTcpClient>(metrics_port, "127.0.0.1"));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  for (int probe = 0; probe < 3; ++probe)
    EXPECT_EQ(http_status(metrics_port, "/health"), 200);
}

TEST_F(HostileClients, EveryAttackInTurnWhileTheCanaryReplicaKeepsUp) {
  relay_pid_ = relay_->pid();
  Canary canary(source_->port(), replica_->port());
  ASSERT_TRUE(canary.ready());
  std::cout << "relay VmHWM " << status_kib(relay_pid_, "VmHWM") << " KiB before the attacks" << std::endl;
  canary.start();
  std::this_thread::sleep_for(1s);  // the canary's lag before any attack

  nested_parentheses(relay_port_);
  expect_relay_up("20,000 nested parentheses");
  like_patterns(relay_port_);
  expect_relay_up("LIKE patterns");
  brute_force(relay_port_, [&] {
    // The canary replica reconnects from its address while the attacker's is blocked.
    ASSERT_TRUE(replica_->execute("STOP SLAVE IO_THREAD; START SLAVE IO_THREAD"));
    EXPECT_TRUE(wait_until([&] { return slave_status(*replica_)["Slave_IO_Running"] == "Yes"; }, 10s))
        << slave_status(*replica_)["Last_IO_Error"];
  });
  expect_relay_up("500 wrong passwords");
  silent_burst(relay_port_);
  expect_relay_up("40 silent connections");
  auto files = source_->query("SHOW BINARY LOGS");
  ASSERT_TRUE(files && !files->empty());
  oversized(relay_port_, files->front().at(0));
  expect_relay_up("over max_allowed_packet and a 100 KB connect state");
  idle_metrics_connections(metrics_port_);
  expect_relay_up("90 idle metrics connections");

  std::this_thread::sleep_for(1s);  // the canary's lag after the last attack
  canary.stop();
  EXPECT_EQ(canary.error(), "");
  const auto max_lag = std::chrono::duration_cast<std::chrono::milliseconds>(canary.max_lag());
  std::cout << "canary: " << canary.written() << " rows written, max lag " << max_lag.count() << " ms"
            << std::endl;
  EXPECT_LT(max_lag, kLagBound);
  EXPECT_GE(canary.written(), 20);

  // The replica ends with the source's rows, without a replication error.
  ASSERT_TRUE(wait_until(
      [&] {
        auto rows = replica_->query("SELECT COUNT(*) FROM canary.t");
        return rows && !rows->empty() && rows->front().at(0) == std::to_string(canary.written());
      },
      30s));
  auto status = slave_status(*replica_);
  EXPECT_EQ(status["Slave_IO_Running"], "Yes") << status["Last_IO_Error"];
  EXPECT_EQ(status["Slave_SQL_Running"], "Yes") << status["Last_SQL_Error"];
  EXPECT_EQ(status["Last_IO_Errno"], "0") << status["Last_IO_Error"];
  EXPECT_EQ(status["Last_SQL_Errno"], "0") << status["Last_SQL_Error"];
  auto source_sum = source_->query("CHECKSUM TABLE canary.t");
  auto replica_sum = replica_->query("CHECKSUM TABLE canary.t");
  ASSERT_TRUE(source_sum && replica_sum);
  EXPECT_EQ(*replica_sum, *source_sum);

  // The second canary has every byte of the source's binlog.
  const std::uint64_t binlog_bytes = source_binlog_bytes(*source_);
  EXPECT_TRUE(wait_until([&] { return directory_bytes(binlog_dir_) == binlog_bytes; }, 30s))
      << directory_bytes(binlog_dir_) << " of " << binlog_bytes << " bytes; "
      << read_file(dir_->file("binlog-canary.err")).value_or("");
  EXPECT_TRUE(binlog_reader_->running());

  const std::size_t peak = status_kib(relay_->pid(), "VmHWM");
  std::cout << "relay VmHWM " << peak << " KiB (bound " << kRssBoundKib << " KiB)" << std::endl;
  EXPECT_LT(peak, kRssBoundKib);
  expect_relay_up("everything");
}

}  // namespace
}  // namespace brelay::testing
