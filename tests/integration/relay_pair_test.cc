// Relays in pairs, the relay's HA story: two relays pulling from the same source store
// byte-identical files at identical positions, so a file/position replica of relay A moves to relay
// B with the coordinates it reached (Relay_Master_Log_File, Exec_Master_Log_Pos) and carries on.
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/mariadb_server.h"
#include "tests/support/relay_process.h"
#include "tests/support/replication_checks.h"
#include "tests/support/single_value.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct PairedRelay {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<RelayProcess> process;
  std::uint16_t port = 0;

  Result<std::string> query(const std::string& sql) const {
    return mariadb_cli_query(port, "admin", "adminpw", sql);
  }
};

PairedRelay start_relay(const MariaDbServer& source, std::uint32_t server_id) {
  PairedRelay relay;
  auto dir = TempDir::create("relay-pair");
  EXPECT_TRUE(dir);
  if (!dir) return relay;
  relay.dir = std::make_unique<TempDir>(std::move(*dir));
  relay.port = free_loopback_port().value_or(0);
  TestRelayConfig config;
  config.source_port = source.port();
  config.source_server_id = server_id;
  config.server_id = server_id + 100;
  config.data_dir = relay.dir->file("data");
  config.listen = fmt::format("127.0.0.1:{}", relay.port);
  auto process = RelayProcess::start(config);
  EXPECT_TRUE(process) << process.error().message();
  if (process) relay.process = std::move(*process);
  return relay;
}

bool relay_reached(const PairedRelay& relay, const std::string& gtid_pos) {
  auto pos = relay.query("SELECT @@gtid_binlog_pos");
  return pos && pos->find(gtid_pos) != std::string::npos;
}

TEST(RelayPair, AFilePositionReplicaMovesFromOneRelayToTheOtherWithItsCoordinates) {
  MariaDbOptions options;
  options.server_id = 1;
  options.max_binlog_size = 8192;  // several files
  auto source = MariaDbServer::start(options);
  ASSERT_TRUE(source) << source.error().message();
  ASSERT_TRUE((*source)->execute(kCreateAppTable));
  const std::string first_file = single_value(**source, "SHOW BINARY LOGS");
  PairedRelay a = start_relay(**source, 4001);
  PairedRelay b = start_relay(**source, 4002);
  ASSERT_TRUE(a.process && b.process);

  MariaDbOptions replica_options;
  replica_options.server_id = 7;
  replica_options.log_bin = false;
  auto replica = MariaDbServer::start(replica_options);
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->execute(
      fmt::format("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', "
                  "MASTER_PASSWORD='replpw', MASTER_LOG_FILE='{}', MASTER_LOG_POS=4, MASTER_CONNECT_RETRY=1; "
                  "START SLAVE",
                  a.port, first_file)));
  insert_app_rows(**source, 1, 150);
  const std::string middle = single_value(**source, "SELECT @@gtid_binlog_pos");
  ASSERT_TRUE(wait_until([&] { return relay_reached(a, middle) && relay_reached(b, middle); }, seconds(60),
                         milliseconds(50)));
  // Identical files at identical positions.
  auto listing_a = a.query("SHOW BINARY LOGS");
  auto listing_b = b.query("SHOW BINARY LOGS");
  ASSERT_TRUE(listing_a && listing_b);
  EXPECT_EQ(*listing_a, *listing_b);
  EXPECT_NE(listing_a->find('\n'), listing_a->rfind('\n')) << "several files: " << *listing_a;

  // The replica reads part of it from A; A stops.
  ASSERT_TRUE(wait_until([&] { return single_value(**replica, "SELECT COUNT(*) FROM app.t") != "0"; },
                         seconds(60), milliseconds(20)));
  ASSERT_TRUE(a.process->stop());
  ASSERT_TRUE((*replica)->execute("STOP SLAVE"));
  auto status = slave_status(**replica);
  const std::string file = status["Relay_Master_Log_File"];
  const std::string position = status["Exec_Master_Log_Pos"];
  ASSERT_FALSE(file.empty());
  std::printf("relay pair: the replica moves to relay B at %s:%s\n", file.c_str(), position.c_str());
  ASSERT_TRUE((*replica)->execute(
      fmt::format("CHANGE MASTER TO MASTER_PORT={}, MASTER_LOG_FILE='{}', MASTER_LOG_POS={}; START SLAVE",
                  b.port, file, position)));
  insert_app_rows(**source, 1000, 50);
  expect_caught_up_with_equal_checksums(**source, **replica, "app.t", seconds(90));
}

}  // namespace
}  // namespace brelay::testing
