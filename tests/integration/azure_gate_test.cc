// Issue 16's guards for Azure Data-in replicas, live: a MariaDB source, the `binlog-relay`
// executable pulling it and a MariaDB replica of the relay standing in for the Azure target.
//  - GIPK hazards: `ALTER TABLE t ADD PRIMARY KEY` on a table created without one is flagged as
//    1068, `ADD COLUMN id int AUTO_INCREMENT UNIQUE` on one as 1075, a partitioned table without a
//    primary key as unsupported; ALTERs on tables with a primary key (known from the source's
//    information_schema, since the relay starts after they were created) are not. Each is in the
//    log (WARN, with the Azure error and the mitigation), in SHOW RELAY STATUS and /status, and in
//    binlog_relay_target_hazards_total{kind}. With [server] hold_on_hazard the replica stops just
//    before each flagged transaction (its Exec position is the transaction's start, the rows after
//    it are not applied, heartbeats keep coming) until an admin runs RELEASE HAZARD.
//  - Delayed serving: an account with `delay = "5s"` gets each row no earlier than 5 s after the
//    source wrote it. The rows carry UNIX_TIMESTAMP(NOW(6)) (the statement's start, before its
//    commit); the test records when each row first shows on the replica by polling it (polling can
//    only make an arrival look later, never earlier), on the same host's clock. The relay holds
//    an event whose header says second T until T + 1 + 5 s, which is after NOW(6) + 5 s; the
//    tolerance only covers the two processes reading the clock (kClockSlack). Once the load stops
//    the replica catches up with every row.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/upstream_harness.h"
#include "tests/support/single_value.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

constexpr double kDelaySeconds = 5.0;
constexpr double kClockSlack = 0.05;
constexpr int kDelayedRows = 20;

struct Hazard {
  std::string kind;
  std::string table;
  std::string file;
  std::uint64_t position = 0;
  std::string gtid;
  bool released = false;
};

class AzureGuards : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("azure-gate");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    auto source = MariaDbServer::start();
    ASSERT_TRUE(source) << source.error().message();
    source_ = std::move(*source);
    MariaDbOptions replica_options;
    replica_options.server_id = 21;
    replica_options.log_bin = false;
    auto replica = MariaDbServer::start(replica_options);
    ASSERT_TRUE(replica) << replica.error().message();
    replica_ = std::move(*replica);
    // The schema exists on both before the relay starts pulling (from the source's position after
    // it), so the relay knows these tables from information_schema only.
    const std::string schema =
        "CREATE DATABASE app; CREATE TABLE app.k (id INT PRIMARY KEY, v INT); "
        "CREATE TABLE app.seeded (id INT PRIMARY KEY, v INT); "
        "CREATE TABLE app.d (id INT PRIMARY KEY, written DECIMAL(20,6))";
    ASSERT_TRUE(source_->execute(schema));
    ASSERT_TRUE(replica_->execute(schema));
    auto start = master_status(*source_);
    ASSERT_TRUE(start) << start.error().message();
    start_ = *start;
  }

  Status start_relay(const std::string& server_extra) {
    config_.source_port = source_->port();
    config_.source_extra =
        fmt::format("start_file = \"{}\"\nstart_position = {}\n", start_.first, start_.second);
    config_.data_dir = dir_->file("data");
    BRELAY_ASSIGN_OR_RETURN(listen_port_, free_loopback_port());
    config_.listen = fmt::format("127.0.0.1:{}", listen_port_);
    BRELAY_ASSIGN_OR_RETURN(metrics_port_, free_loopback_port());
    config_.metrics_listen = fmt::format("127.0.0.1:{}", metrics_port_);
    config_.server_extra = server_extra;
    config_.users +=
        "[[users]]\nname = \"late\"\npassword = \"latepw\"\nrole = \"replica\"\ndelay = \"5s\"\n";
    config_.log_level = "info";
    BRELAY_ASSIGN_OR_RETURN(relay_, RelayProcess::start(config_));
    return {};
  }

  Status start_replica(const std::string& user, const std::string& password) {
    return replica_->execute(fmt::format(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='{}', MASTER_PASSWORD='{}', "
        "MASTER_LOG_FILE='{}', MASTER_LOG_POS={}, MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1, "
        "MASTER_HEARTBEAT_PERIOD=1; START SLAVE",
        listen_port_, user, password, start_.first, start_.second));
  }

  CommandOutput relay_sql(const std::string& user, const std::string& password, const std::string& sql) {
    auto output =
        run_command({"mariadb", "--host=127.0.0.1", fmt::format("--port={}", listen_port_), "--user=" + user,
                     "--password=" + password, "--batch", "--skip-column-names", "-e", sql},
                    {}, 60s);
    EXPECT_TRUE(output) << output.error().message();
    return output ? *output : CommandOutput{};
  }

  std::string curl(const std::string& path) {
    auto output = run_command(
        {"curl", "--silent", "--max-time", "20", fmt::format("http://127.0.0.1:{}{}", metrics_port_, path)},
        {}, 60s);
    EXPECT_TRUE(output) << output.error().message();
    return output ? output->out : std::string();
  }

  // The Target_Hazard_N rows of a status text, oldest first.
  static std::vector<Hazard> hazards_in(const std::string& status) {
    static const std::regex row(
        R"(Target_Hazard_\d+[:\t]\s*(\S+) on (\S+) at (\S+):(\d+) \(GTID ([0-9-]+)\)[^\n]*)");
    std::vector<Hazard> out;
    for (auto it = std::sregex_iterator(status.begin(), status.end(), row); it != std::sregex_iterator();
         ++it) {
      const std::smatch& m = *it;
      out.push_back(
          {m[1], m[2], m[3], std::stoull(m[4]), m[5], m[0].str().find("[released]") != std::string::npos});
    }
    return out;
  }

  std::uint64_t heartbeats() {
    auto rows = replica_->query("SHOW GLOBAL STATUS LIKE 'Slave_received_heartbeats'");
    return rows && !rows->empty() ? std::stoull(rows->front().at(1)) : 0;
  }

  // Waits until the replica executed everything before `hazard` and stopped there.
  void expect_held_before(const Hazard& hazard, int rows_in_k) {
    std::map<std::string, std::string> status;
    const bool held = wait_until(
        [&] {
          status = slave_status(*replica_);
          return status["Relay_Master_Log_File"] == hazard.file &&
                 status["Exec_Master_Log_Pos"] == std::to_string(hazard.position);
        },
        60s, 100ms);
    ASSERT_TRUE(held) << "Exec " << status["Relay_Master_Log_File"] << ":" << status["Exec_Master_Log_Pos"]
                      << ", expected " << hazard.file << ":" << hazard.position << "; "
                      << status["Last_SQL_Error"] << status["Last_IO_Error"] << "\n"
                      << relay_log_tail(relay_.get());
    // Nothing of the flagged transaction or after it was even received.
    EXPECT_EQ(status["Read_Master_Log_Pos"], std::to_string(hazard.position));
    EXPECT_EQ(single_value(*replica_, "SELECT COUNT(*) FROM app.k"), std::to_string(rows_in_k));
    EXPECT_EQ(status["Slave_IO_Running"], "Yes") << status["Last_IO_Error"];
    EXPECT_EQ(status["Slave_SQL_Running"], "Yes") << status["Last_SQL_Error"];
    // Heartbeats keep coming while it waits.
    const std::uint64_t before = heartbeats();
    EXPECT_TRUE(wait_until([&] { return heartbeats() >= before + 2; }, 30s, 200ms));
    status = slave_status(*replica_);
    EXPECT_EQ(status["Exec_Master_Log_Pos"], std::to_string(hazard.position));
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<MariaDbServer> source_;
  std::unique_ptr<MariaDbServer> replica_;
  std::pair<std::string, std::uint64_t> start_;
  TestRelayConfig config_;
  std::unique_ptr<RelayProcess> relay_;
  std::uint16_t listen_port_ = 0;
  std::uint16_t metrics_port_ = 0;
};

TEST_F(AzureGuards, HazardsAreFlaggedAndAHeldReplicaContinuesAfterEachRelease) {
  ASSERT_TRUE(start_relay("hold_on_hazard = true\n"));
  ASSERT_TRUE(
      source_->execute("USE app; INSERT INTO k VALUES (1, 1); "
                       "ALTER TABLE k ADD COLUMN c INT; "
                       "ALTER TABLE seeded ADD COLUMN n INT AUTO_INCREMENT UNIQUE; "
                       "CREATE TABLE t (a INT); INSERT INTO t VALUES (1); "
                       "ALTER TABLE t ADD PRIMARY KEY (a); "
                       "INSERT INTO k VALUES (2, 2, NULL); "
                       "CREATE TABLE t2 (a INT); ALTER TABLE t2 ADD COLUMN id INT AUTO_INCREMENT UNIQUE; "
                       "INSERT INTO k VALUES (3, 3, NULL); "
                       "CREATE TABLE p (a INT) PARTITION BY HASH(a) PARTITIONS 2; "
                       "INSERT INTO k VALUES (4, 4, NULL)"));
  ASSERT_TRUE(wait_for_catch_up(*source_, config_.data_dir, 60s, relay_.get()));
  ASSERT_TRUE(start_replica("repl", "replpw"));

  // SHOW RELAY STATUS lists exactly the three, in order; nothing on app.k or app.seeded.
  CommandOutput status = relay_sql("admin", "adminpw", "SHOW RELAY STATUS");
  ASSERT_EQ(status.exit_status, 0) << status.err;
  std::vector<Hazard> hazards = hazards_in(status.out);
  ASSERT_EQ(hazards.size(), 3u) << status.out;
  EXPECT_EQ(hazards[0].kind, "add_primary_key");
  EXPECT_EQ(hazards[0].table, "app.t");
  EXPECT_EQ(hazards[1].kind, "auto_increment_key");
  EXPECT_EQ(hazards[1].table, "app.t2");
  EXPECT_EQ(hazards[2].kind, "partitioned_without_primary_key");
  EXPECT_EQ(hazards[2].table, "app.p");
  EXPECT_NE(status.out.find("ERROR 1068"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("ERROR 1075"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("app.k"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("app.seeded"), std::string::npos) << status.out;
  // /status shows the same list; /metrics counts each kind once.
  EXPECT_EQ(hazards_in(curl("/status")).size(), 3u);
  const std::string metrics = curl("/metrics");
  for (const char* kind : {"add_primary_key", "auto_increment_key", "partitioned_without_primary_key"}) {
    EXPECT_NE(metrics.find(fmt::format("binlog_relay_target_hazards_total{{kind=\"{}\"}} 1", kind)),
              std::string::npos)
        << kind << "\n"
        << metrics;
  }
  // The log: WARN lines with the table, the position, the error and Azure's mitigation.
  const std::string log = relay_->log();
  EXPECT_NE(log.find(fmt::format("add_primary_key on app.t at {}:{} (GTID {})", hazards[0].file,
                                 hazards[0].position, hazards[0].gtid)),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("DROP COLUMN my_row_id"), std::string::npos);
  EXPECT_NE(log.find("sql_generate_invisible_primary_key = OFF"), std::string::npos);
  EXPECT_NE(log.find("az_replication_skip_counter"), std::string::npos);

  // Held before the first; a replica account may not release it.
  expect_held_before(hazards[0], 1);
  const std::string where = fmt::format("{}:{}", hazards[0].file, hazards[0].position);
  CommandOutput denied = relay_sql("repl", "replpw", "RELEASE HAZARD '" + where + "'");
  EXPECT_NE(denied.exit_status, 0);
  EXPECT_NE(denied.err.find("1227"), std::string::npos) << denied.err;
  CommandOutput unknown = relay_sql("admin", "adminpw", "RELEASE HAZARD '0-1-999999'");
  EXPECT_NE(unknown.exit_status, 0);
  EXPECT_NE(unknown.err.find("no unreleased hazard"), std::string::npos) << unknown.err;

  // Released by file:position, then by GTID: the replica moves on to the next one each time.
  CommandOutput released = relay_sql("admin", "adminpw", "RELEASE HAZARD '" + where + "'");
  ASSERT_EQ(released.exit_status, 0) << released.err;
  expect_held_before(hazards[1], 2);
  ASSERT_EQ(relay_sql("admin", "adminpw", "RELEASE HAZARD '" + hazards[1].gtid + "'").exit_status, 0);
  expect_held_before(hazards[2], 3);
  ASSERT_EQ(relay_sql("admin", "adminpw", "RELEASE HAZARD '" + hazards[2].gtid + "'").exit_status, 0);

  const std::string source_position = single_value(*source_, "SELECT @@gtid_binlog_pos");
  EXPECT_TRUE(wait_until(
      [&] { return single_value(*replica_, "SELECT @@gtid_slave_pos") == source_position; }, 60s, 100ms));
  EXPECT_EQ(single_value(*replica_, "SELECT COUNT(*) FROM app.k"), "4");
  std::map<std::string, std::string> replica_status = slave_status(*replica_);
  EXPECT_EQ(replica_status["Last_SQL_Errno"], "0") << replica_status["Last_SQL_Error"];
  status = relay_sql("admin", "adminpw", "SHOW RELAY STATUS");
  for (const Hazard& hazard : hazards_in(status.out))
    EXPECT_TRUE(hazard.released) << status.out;
  EXPECT_NE(status.out.find("3 flagged since start, 0 unreleased; hold_on_hazard on"), std::string::npos)
      << status.out;
}

TEST_F(AzureGuards, ADelayedAccountGetsEachRowNoEarlierThanTheDelayAndCatchesUp) {
  ASSERT_TRUE(start_relay(""));
  // The first row gives the relay something to serve from before the replica connects.
  ASSERT_TRUE(source_->execute("INSERT INTO app.d VALUES (0, UNIX_TIMESTAMP(NOW(6)))"));
  ASSERT_TRUE(wait_for_catch_up(*source_, config_.data_dir, 60s, relay_.get()));
  ASSERT_TRUE(start_replica("late", "latepw"));
  // The load: a row every 250 ms, each stamped with the source's clock as it runs.
  std::thread load([&] {
    for (int id = 1; id < kDelayedRows; ++id) {
      EXPECT_TRUE(source_->execute(fmt::format("INSERT INTO app.d VALUES ({}, UNIX_TIMESTAMP(NOW(6)))", id)));
      std::this_thread::sleep_for(250ms);
    }
  });
  // When each row first shows on the replica.
  std::map<int, double> arrived;
  std::map<int, double> written;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (static_cast<int>(arrived.size()) < kDelayedRows && std::chrono::steady_clock::now() < deadline) {
    auto rows = replica_->query("SELECT id, written FROM app.d");
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (rows) {
      for (const auto& row : *rows) {
        const int id = std::stoi(row.at(0));
        if (arrived.emplace(id, now).second) written[id] = std::stod(row.at(1));
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  load.join();
  ASSERT_EQ(static_cast<int>(arrived.size()), kDelayedRows) << relay_log_tail(relay_.get());
  double least = 1e9;
  double most = 0;
  for (const auto& [id, at] : arrived) {
    const double delay = at - written[id];
    least = std::min(least, delay);
    most = std::max(most, delay);
    EXPECT_GE(delay, kDelaySeconds - kClockSlack) << "row " << id << " arrived after " << delay << " s";
  }
  // It caught up: everything applied, no error; the rows came with about the delay, not much later
  // (a generous bound: the event timestamps' second, polling and a busy machine).
  EXPECT_LT(most, kDelaySeconds + 15) << "least " << least;
  const std::string source_position = single_value(*source_, "SELECT @@gtid_binlog_pos");
  EXPECT_TRUE(wait_until(
      [&] { return single_value(*replica_, "SELECT @@gtid_slave_pos") == source_position; }, 30s, 100ms));
  std::map<std::string, std::string> status = slave_status(*replica_);
  EXPECT_EQ(status["Slave_IO_Running"], "Yes") << status["Last_IO_Error"];
  EXPECT_EQ(status["Last_SQL_Errno"], "0") << status["Last_SQL_Error"];
  EXPECT_GE(heartbeats(), 1u) << "heartbeats flow while the dump waits";
  std::printf("delayed rows arrived %.3f to %.3f s after NOW(6) on the source\n", least, most);
}

}  // namespace
}  // namespace brelay::testing
