// Replicas remembered (issue 16), against the real executable, a real MariaDB source and a real
// MariaDB replica of the relay: the replica disconnects (STOP SLAVE); retention by size runs while
// it is away and the file its stream continues in survives, also across a relay restart (the record
// is in the store); the replica comes back (START SLAVE) and ends with CHECKSUM TABLE equal to the
// source's. Disconnected again, once [storage] replica_grace since it was last seen has passed,
// retention purges what it needed. SHOW RELAY REPLICAS and GET /status list it while disconnected;
// FORGET REPLICA drops it.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tests/integration/upstream_harness.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/process.h"
#include "tests/support/relay_process.h"
#include "tests/support/single_value.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uint32_t kReplicaServerId = 7;

// SHOW RELAY REPLICAS's row for `server_id`, split on tabs (empty when it is not listed).
std::vector<std::string> remembered_row(std::uint16_t port, std::uint32_t server_id) {
  auto text = mariadb_cli_query(port, "admin", "adminpw", "SHOW RELAY REPLICAS");
  EXPECT_TRUE(text) << text.error().message();
  std::istringstream lines(text ? *text : std::string());
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, '\t'))
      fields.push_back(cell);
    if (!fields.empty() && fields[0] == std::to_string(server_id)) return fields;
  }
  return {};
}
// Columns of SHOW RELAY REPLICAS (remembered_replicas.cc).
constexpr std::size_t kStateColumn = 4;
constexpr std::size_t kFileColumn = 6;

std::string curl(const std::string& url) {
  auto output = run_command({"curl", "--silent", "--max-time", "20", url}, {}, seconds(60));
  EXPECT_TRUE(output) << output.error().message();
  return output ? output->out : std::string();
}

bool stores(const std::string& data_dir, const std::string& file) {
  auto files = stored_files(data_dir);
  EXPECT_TRUE(files) << files.error().message();
  return files && std::ranges::any_of(*files, [&](const storage::FileInfo& f) { return f.name == file; });
}

class RememberedReplicas : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("remembered");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    auto source = MariaDbServer::start();
    ASSERT_TRUE(source) << source.error().message();
    source_ = std::move(*source);
    ASSERT_TRUE(source_->execute("CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v TEXT)"));
    MariaDbOptions replica_options;
    replica_options.server_id = kReplicaServerId;
    replica_options.log_bin = false;
    auto replica = MariaDbServer::start(replica_options);
    ASSERT_TRUE(replica) << replica.error().message();
    replica_ = std::move(*replica);
  }

  TestRelayConfig relay_config(const std::string& grace) {
    TestRelayConfig config;
    config.source_port = source_->port();
    config.data_dir = dir_->file("data");
    if (listen_port_ == 0) {
      listen_port_ = free_loopback_port().value_or(0);
      metrics_port_ = free_loopback_port().value_or(0);
    }
    config.listen = fmt::format("127.0.0.1:{}", listen_port_);
    config.metrics_listen = fmt::format("127.0.0.1:{}", metrics_port_);
    config.log_level = "info";
    config.storage_extra = fmt::format(
        "retention_time = \"0\"\nretention_size = \"64KiB\"\nprotect_replicas = true\nreplica_grace = "
        "\"{}\"\n",
        grace);
    return config;
  }

  // `files` files of ~40 KiB each on the source.
  void write_files(int files) {
    for (int file = 0; file < files; ++file) {
      std::string sql;
      for (int i = 0; i < 20; ++i)
        sql += fmt::format("INSERT INTO shop.t VALUES ({}, REPEAT('x', 2000));", next_id_++);
      ASSERT_TRUE(source_->execute(sql));
      ASSERT_TRUE(source_->execute("FLUSH BINARY LOGS"));
    }
  }

  // Waits until the replica applied everything the source wrote, then compares the table.
  void expect_replica_caught_up() {
    const std::string end = single_value(*source_, "SELECT @@gtid_binlog_pos");
    EXPECT_TRUE(wait_until(
        [&] {
          auto s = slave_status(*replica_);
          return single_value(*replica_, "SELECT @@gtid_slave_pos") == end || s["Last_SQL_Errno"] != "0" ||
                 s["Last_IO_Errno"] != "0";
        },
        seconds(90), milliseconds(50)));
    auto status = slave_status(*replica_);
    EXPECT_EQ(status["Last_IO_Errno"], "0") << status["Last_IO_Error"];
    EXPECT_EQ(status["Last_SQL_Errno"], "0") << status["Last_SQL_Error"];
    auto mine = replica_->query("CHECKSUM TABLE shop.t");
    auto theirs = source_->query("CHECKSUM TABLE shop.t");
    ASSERT_TRUE(mine && theirs);
    EXPECT_EQ(*mine, *theirs);
  }

  // STOP SLAVE, then waits until the relay remembers the replica as disconnected; returns the file
  // its record says the stream continues in.
  std::string stop_replica() {
    EXPECT_TRUE(replica_->execute("STOP SLAVE"));
    std::vector<std::string> row;
    EXPECT_TRUE(wait_until(
        [&] {
          row = remembered_row(listen_port_, kReplicaServerId);
          return row.size() > kFileColumn && row[kStateColumn] == "disconnected";
        },
        seconds(30), milliseconds(100)))
        << fmt::format("{}", fmt::join(row, " | "));
    return row.size() > kFileColumn ? row[kFileColumn] : std::string();
  }

  static bool logged(RelayProcess& relay, const std::string& text) {
    return relay.log().find(text) != std::string::npos;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<MariaDbServer> source_;
  std::unique_ptr<MariaDbServer> replica_;
  std::uint16_t listen_port_ = 0;
  std::uint16_t metrics_port_ = 0;
  int next_id_ = 1;
};

TEST_F(RememberedReplicas, ADisconnectedReplicasFilesSurviveRetentionUntilItsGraceEnds) {
  const std::string first_file = single_value(*source_, "SHOW BINARY LOGS");
  TestRelayConfig config = relay_config("60s");
  auto started = RelayProcess::start(config);
  ASSERT_TRUE(started) << started.error().message();
  std::unique_ptr<RelayProcess> relay = std::move(*started);
  ASSERT_TRUE(wait_for_catch_up(*source_, config.data_dir, seconds(30), relay.get()));
  ASSERT_TRUE(replica_->execute(
      fmt::format("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', "
                  "MASTER_PASSWORD='replpw', MASTER_LOG_FILE='{}', MASTER_LOG_POS=4, MASTER_CONNECT_RETRY=1; "
                  "START SLAVE",
                  listen_port_, first_file)));
  write_files(1);
  expect_replica_caught_up();

  // The replica goes away; six files of ~40 KiB arrive: retention by size (64 KiB) would keep the
  // newest one or two, but keeps the one the replica continues in and everything after it.
  const std::string needed = stop_replica();
  ASSERT_FALSE(needed.empty());
  EXPECT_EQ(needed, slave_status(*replica_)["Master_Log_File"]);
  write_files(6);
  ASSERT_TRUE(wait_for_catch_up(*source_, config.data_dir, seconds(30), relay.get()));
  const std::string keeping = fmt::format("retention: keeping {} and later files", needed);
  EXPECT_TRUE(wait_until([&] { return logged(*relay, keeping); }, seconds(30), milliseconds(100)))
      << relay->log();
  EXPECT_TRUE(stores(config.data_dir, needed));

  // GET /status lists it while it is disconnected; SHOW REPLICAS keeps MySQL's meaning (connected).
  const std::string status = curl(fmt::format("http://127.0.0.1:{}/status", metrics_port_));
  EXPECT_NE(status.find(fmt::format("Disconnected_Replica_{}:", kReplicaServerId)), std::string::npos)
      << status;
  EXPECT_NE(status.find(fmt::format("at {}:", needed)), std::string::npos) << status;
  EXPECT_NE(status.find("kept until"), std::string::npos) << status;
  auto show_replicas = mariadb_cli_query(listen_port_, "admin", "adminpw", "SHOW SLAVE HOSTS");
  ASSERT_TRUE(show_replicas) << show_replicas.error().message();
  EXPECT_EQ(*show_replicas, "");

  // The record is durable: a restarted relay still keeps the file for it.
  ASSERT_TRUE(relay->stop());
  relay.reset();
  started = RelayProcess::start(config);
  ASSERT_TRUE(started) << started.error().message();
  relay = std::move(*started);
  const std::vector<std::string> row = remembered_row(listen_port_, kReplicaServerId);
  ASSERT_GT(row.size(), kFileColumn);
  EXPECT_EQ(row[kStateColumn], "disconnected");
  EXPECT_EQ(row[kFileColumn], needed);
  EXPECT_TRUE(wait_until([&] { return logged(*relay, keeping); }, seconds(30), milliseconds(100)))
      << relay->log();
  EXPECT_TRUE(stores(config.data_dir, needed));

  // It comes back and catches up from where it was.
  ASSERT_TRUE(replica_->execute("START SLAVE"));
  write_files(1);
  expect_replica_caught_up();

  // Gone again, with a short grace: once it has passed, retention purges what the replica needed.
  const std::string needed_later = stop_replica();
  ASSERT_FALSE(needed_later.empty());
  write_files(3);
  ASSERT_TRUE(wait_for_catch_up(*source_, config.data_dir, seconds(30), relay.get()));
  ASSERT_TRUE(stores(config.data_dir, needed_later));
  ASSERT_TRUE(relay->stop());
  relay.reset();
  config = relay_config("2s");
  started = RelayProcess::start(config);
  ASSERT_TRUE(started) << started.error().message();
  relay = std::move(*started);
  // Each new file makes retention run.
  EXPECT_TRUE(wait_until(
      [&] { return !stores(config.data_dir, needed_later) || !source_->execute("FLUSH BINARY LOGS"); },
      seconds(60), milliseconds(500)))
      << relay->log();
  EXPECT_TRUE(logged(*relay, "retention: purged")) << relay->log();
  const std::string after = curl(fmt::format("http://127.0.0.1:{}/status", metrics_port_));
  EXPECT_NE(after.find("grace over since"), std::string::npos) << after;

  // FORGET REPLICA drops the record.
  ASSERT_TRUE(mariadb_cli_query(listen_port_, "admin", "adminpw",
                                fmt::format("FORGET REPLICA {}", kReplicaServerId)));
  EXPECT_TRUE(remembered_row(listen_port_, kReplicaServerId).empty());
}

}  // namespace
}  // namespace brelay::testing
