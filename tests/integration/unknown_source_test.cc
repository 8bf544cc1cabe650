// A fresh relay that has not reached its source yet does not know the source's flavour: it greets
// with a placeholder (MySQL 8.0) so that operators can log in, and refuses replica logins and every
// dump until it knows the source, with an error replicas retry on. A relay tier and a MariaDB replica that
// connected in that moment then pull in the source's own flavour: the tier stores the source's
// files byte for byte and the replica has every GTID. (Before, the tier pulled as a MySQL replica
// and stored MariaDB's events in their MySQL stand-ins.)
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include <fmt/ranges.h>

#include "tests/integration/upstream_harness.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/process.h"
#include "tests/support/relay_process.h"
#include "tests/support/replication_checks.h"
#include "tests/support/served_store.h"
#include "tests/support/single_value.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kNotReached = "has not reached its source yet";

std::size_t occurrences(const std::string& text, std::string_view what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
    ++count;
  return count;
}

TEST(UnknownSource, DumpsWaitUntilTheRelayKnowsItsSourceThenATierAndAReplicaPullInItsFlavour) {
  MariaDbOptions options;
  options.server_id = 1;
  options.max_binlog_size = 16384;  // several files to compare
  auto source = MariaDbServer::start(options);
  ASSERT_TRUE(source) << source.error().message();
  ASSERT_TRUE((*source)->execute(kCreateAppTable));
  insert_app_rows(**source, 1, 40);
  const std::string first_file = single_value(**source, "SHOW BINARY LOGS");
  ASSERT_TRUE((*source)->stop());  // the relay starts while its source is down

  auto dir = TempDir::create("unknown-source");
  ASSERT_TRUE(dir);
  auto relay_port = free_loopback_port();
  ASSERT_TRUE(relay_port);
  TestRelayConfig config;
  config.data_dir = dir->file("relay-data");
  config.source_port = (*source)->port();
  config.source_server_id = 4001;
  config.server_id = 4002;
  config.source_extra = "heartbeat_period = \"500ms\"\nreconnect_max_delay = \"500ms\"\n";
  config.listen = fmt::format("127.0.0.1:{}", *relay_port);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  EXPECT_NE((*relay)->log().find("replica logins and dumps are refused"), std::string::npos)
      << (*relay)->log();

  // Admin logins work (an operator asks why nothing streams); a replica account's login and an
  // admin's dump are refused with the reason.
  auto status = mariadb_cli_query(*relay_port, "admin", "adminpw", "SHOW RELAY STATUS");
  ASSERT_TRUE(status) << status.error().message();
  const auto expect_refused = [&](std::uint16_t port, const std::string& user, const std::string& password) {
    std::vector<std::string> argv = mariadb_binlog_argv(port, user, password);
    argv.insert(argv.end(), {"--raw", "--result-file=" + dir->path() + "/", first_file});
    auto refused = run_command(argv, {}, seconds(60));
    ASSERT_TRUE(refused) << refused.error().message();
    EXPECT_NE(refused->exit_status, 0);
    EXPECT_NE(refused->err.find(kNotReached), std::string::npos)
        << user << "@" << port << ": " << refused->err << refused->out;
  };
  expect_refused(*relay_port, "repl", "replpw");
  expect_refused(*relay_port, "admin", "adminpw");

  // A relay tier pulling from the relay with the admin account (its login passes, its dumps are
  // refused), retrying. It keeps no identity from a refused dump, so it refuses dumps itself.
  auto tier_port = free_loopback_port();
  ASSERT_TRUE(tier_port);
  TestRelayConfig tier_config;
  tier_config.data_dir = dir->file("tier-data");
  tier_config.source_port = *relay_port;
  tier_config.source_user = "admin";
  tier_config.source_password = "adminpw";
  tier_config.source_server_id = 4011;
  tier_config.server_id = 4012;
  tier_config.source_extra = config.source_extra;
  tier_config.listen = fmt::format("127.0.0.1:{}", *tier_port);
  auto tier = RelayProcess::start(tier_config);
  ASSERT_TRUE(tier) << tier.error().message();
  ASSERT_TRUE(wait_until([&] { return occurrences((*tier)->log(), kNotReached) >= 2; }, seconds(30),
                         milliseconds(20)))
      << (*tier)->log();
  expect_refused(*tier_port, "admin", "adminpw");

  // A MariaDB replica of the relay by GTID: its login is refused with the reason, and it retries.
  MariaDbOptions replica_options;
  replica_options.server_id = 7;
  replica_options.log_bin = false;
  auto replica = MariaDbServer::start(replica_options);
  ASSERT_TRUE(replica) << replica.error().message();
  ASSERT_TRUE((*replica)->execute(
      fmt::format("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', "
                  "MASTER_PASSWORD='replpw', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE",
                  *relay_port)));
  ASSERT_TRUE(wait_until(
      [&] { return slave_status(**replica)["Last_IO_Error"].find(kNotReached) != std::string::npos; },
      seconds(30), milliseconds(50)))
      << slave_status(**replica)["Last_IO_Error"];

  // The source comes back; everyone ends up with the source's own bytes and GTIDs.
  ASSERT_TRUE((*source)->restart());
  insert_app_rows(**source, 100, 80);
  expect_caught_up_with_equal_checksums(**source, **replica, "app.t", seconds(90));

  auto caught_up = flush_and_catch_up(**source, tier_config.data_dir, seconds(90), tier->get());
  ASSERT_TRUE(caught_up) << caught_up.error().message();
  // The tier's connections before the relay knew its source were refused; the one it streams on
  // met a MariaDB greeting.
  std::istringstream tier_log((*tier)->log());
  std::string last_connected;
  for (std::string line; std::getline(tier_log, line);)
    if (line.find("upstream: connected to") != std::string::npos) last_connected = line;
  EXPECT_NE(last_connected.find("MariaDB"), std::string::npos) << last_connected;
  std::filesystem::create_directories(dir->file("tier-export"));
  auto comparison = compare_closed_files(**source, tier_config.data_dir, dir->file("tier-export"));
  ASSERT_TRUE(comparison) << comparison.error().message();
  EXPECT_GE(comparison->compared, 2u);
  EXPECT_TRUE(comparison->differences.empty())
      << fmt::format("{}", fmt::join(comparison->differences, "\n")) << relay_log_tail(tier->get());
}

}  // namespace
}  // namespace brelay::testing
