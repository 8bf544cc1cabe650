// The relay follows its source through a failover ([source] hosts): a MariaDB primary and a
// standby replicating from it by GTID (log_slave_updates); the relay lists both. Under an insert
// load the primary is killed (SIGKILL) and the standby promoted; the relay continues from the
// standby, a GTID replica and a file/position replica of the relay end with the standby's
// checksum, and the relay's binlogs hold every GTID exactly once. Candidates that are behind the
// relay or hold an errant transaction are refused with the GTIDs named, and nothing of theirs is
// stored. Under sysbench with the kill mid-stream, the relay fills the standby's gap (it refuses it as
// behind naming the catch-up fix; the standby catches up from the relay, then is promoted).
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/upstream_harness.h"
#include "tests/support/http_client.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/relay_process.h"
#include "tests/support/single_value.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<MariaDbServer> start_server(std::uint32_t server_id, const std::string& basename,
                                            bool log_bin = true, const std::vector<std::string>& extra = {}) {
  MariaDbOptions options;
  options.server_id = server_id;
  options.gtid_domain_id = 0;
  options.log_bin = log_bin;
  options.log_bin_basename = basename;
  options.extra_args = {"--log-slave-updates=ON"};
  options.extra_args.insert(options.extra_args.end(), extra.begin(), extra.end());
  auto server = MariaDbServer::start(options);
  EXPECT_TRUE(server) << server.error().message();
  return server ? std::move(*server) : nullptr;
}

Status replicate_from(MariaDbServer& replica, const std::string& host, std::uint16_t port,
                      const std::string& user, const std::string& password, const std::string& position) {
  return replica.execute(
      fmt::format("CHANGE MASTER TO MASTER_HOST='{}', MASTER_PORT={}, MASTER_USER='{}', "
                  "MASTER_PASSWORD='{}', {}, MASTER_CONNECT_RETRY=1; START SLAVE",
                  host, port, user, password, position));
}

bool caught_up(MariaDbServer& replica, const std::string& gtid_pos) {
  auto rows = replica.query("SELECT @@gtid_slave_pos");
  return rows && !rows->empty() && (*rows)[0][0] == gtid_pos;
}

// A relay listing `hosts`, pulling by GTID, with a short failover_after.
struct FailoverRelay {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<RelayProcess> process;
  std::uint16_t port = 0;

  // `sql` run on the relay as its admin account; rows of tab-separated text.
  Result<std::string> query(const std::string& sql) const {
    return mariadb_cli_query(port, "admin", "adminpw", sql);
  }
};

// Launches (or, after a stop, relaunches) the relay on relay.dir's config.
bool launch_relay(FailoverRelay& relay) {
  auto process = RelayProcess::launch(relay.dir->file("relay.toml"));
  EXPECT_TRUE(process) << process.error().message();
  if (!process) return false;
  relay.process = std::move(*process);
  auto ready = relay.process->wait_for_notification("READY=1", seconds(60));
  EXPECT_TRUE(ready) << ready.error().message();
  return static_cast<bool>(ready);
}

std::unique_ptr<FailoverRelay> start_relay(const std::vector<const MariaDbServer*>& hosts,
                                           std::uint16_t metrics_port = 0) {
  auto relay = std::make_unique<FailoverRelay>();
  auto dir = TempDir::create("failover-relay");
  EXPECT_TRUE(dir) << dir.error().message();
  if (!dir) return nullptr;
  relay->dir = std::make_unique<TempDir>(std::move(*dir));
  relay->port = free_loopback_port().value_or(0);
  TestRelayConfig config;
  config.data_dir = relay->dir->file("data");
  config.listen = fmt::format("127.0.0.1:{}", relay->port);
  config.source_port = hosts.front()->port();
  if (metrics_port != 0) config.metrics_listen = fmt::format("127.0.0.1:{}", metrics_port);
  std::string list;
  for (const MariaDbServer* server : hosts)
    list += fmt::format("{}\"127.0.0.1:{}\"", list.empty() ? "" : ", ", server->port());
  std::string toml = config.to_toml();
  const std::string single = fmt::format("host = \"127.0.0.1\"\nport = {}\n", hosts.front()->port());
  toml.replace(toml.find(single), single.size(),
               fmt::format("hosts = [{}]\ngtid = true\nheartbeat_period = \"500ms\"\nfailover_after = "
                           "\"2s\"\nreconnect_max_delay = \"1s\"\n",
                           list));
  EXPECT_TRUE(write_file(relay->dir->file("relay.toml"), toml));
  if (!launch_relay(*relay)) return nullptr;
  return relay;
}

// The GTIDs of every stored transaction, as the relay's SHOW BINLOG EVENTS lists them.
std::multiset<std::string> stored_gtids(const FailoverRelay& relay, std::vector<std::string>& files) {
  std::multiset<std::string> gtids;
  auto listing = relay.query("SHOW BINARY LOGS");
  EXPECT_TRUE(listing) << listing.error().message();
  if (!listing) return gtids;
  std::istringstream lines(*listing);
  for (std::string line; std::getline(lines, line);)
    files.push_back(line.substr(0, line.find('\t')));
  for (const std::string& file : files) {
    auto events = relay.query(fmt::format("SHOW BINLOG EVENTS IN '{}'", file));
    EXPECT_TRUE(events) << events.error().message();
    if (!events) continue;
    std::istringstream rows(*events);
    for (std::string row; std::getline(rows, row);) {
      const auto at = row.find("GTID ");
      if (row.find("\tGtid\t") != std::string::npos && at != std::string::npos)
        gtids.insert(row.substr(at + 5));
    }
  }
  return gtids;
}

TEST(UpstreamFailover, FollowsThePromotedStandbyUnderLoad) {
  auto primary = start_server(1, "primary-bin");
  auto standby = start_server(2, "standby-bin");
  ASSERT_TRUE(primary && standby);
  ASSERT_TRUE(
      primary->execute("CREATE DATABASE app; CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, "
                       "v INT) ENGINE=InnoDB"));
  ASSERT_TRUE(
      replicate_from(*standby, "127.0.0.1", primary->port(), "root", "", "MASTER_USE_GTID=slave_pos"));
  ASSERT_TRUE(standby->execute("SET GLOBAL read_only = 1"));
  auto relay = start_relay({primary.get(), standby.get()});
  ASSERT_TRUE(relay && relay->process);

  // A GTID replica and a file/position replica of the relay, from the primary's first binlog.
  auto gtid_replica = start_server(11, "r1", false);
  auto file_replica = start_server(12, "r2", false);
  ASSERT_TRUE(gtid_replica && file_replica);
  ASSERT_TRUE(
      replicate_from(*gtid_replica, "127.0.0.1", relay->port, "repl", "replpw", "MASTER_USE_GTID=slave_pos"));
  ASSERT_TRUE(replicate_from(*file_replica, "127.0.0.1", relay->port, "repl", "replpw",
                             "MASTER_LOG_FILE='primary-bin.000001', MASTER_LOG_POS=4"));

  // The load: one insert after the other, on whichever server is the primary. An insert runs
  // under `in_flight`, so a pause (target = nullptr, then taking the lock) waits out the one that
  // may have read the old target.
  std::atomic<MariaDbServer*> target{primary.get()};
  std::mutex in_flight;
  std::atomic<int> inserted{0};
  std::jthread load(
      [&](const std::stop_token& stop) {  // joined by its destructor if an assertion ends the test
        while (!stop.stop_requested()) {
          {
            const std::lock_guard lock(in_flight);
            MariaDbServer* server = target.load();
            if (server != nullptr) {
              if (server->execute("INSERT INTO app.t (v) VALUES (1)")) ++inserted;
              continue;
            }
          }
          std::this_thread::sleep_for(milliseconds(5));
        }
      });
  ASSERT_TRUE(wait_until([&] { return inserted >= 30; }, seconds(120), milliseconds(20)));
  // The standby must hold what the relay stored for the switch to be possible: pause the load
  // until it caught up, then kill the primary. Without waiting for the insert in flight, it could
  // land after primary_pos was read and the standby would pass the position it is compared with.
  target = nullptr;
  { const std::lock_guard lock(in_flight); }
  const std::string primary_pos = single_value(*primary, "SELECT @@gtid_binlog_pos");
  ASSERT_TRUE(wait_until([&] { return caught_up(*standby, primary_pos); }, seconds(60), milliseconds(50)));
  const auto killed_at = std::chrono::steady_clock::now();
  primary->kill();
  ASSERT_TRUE(standby->execute("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0"));
  target = standby.get();
  const int before = inserted;
  ASSERT_TRUE(wait_until([&] { return inserted >= before + 30; }, seconds(120), milliseconds(20)));
  ASSERT_TRUE(wait_until(
      [&] { return relay->process->log().find("first event from the new source") != std::string::npos; },
      seconds(60), milliseconds(20)))
      << relay->process->log();
  const auto switched_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - killed_at).count();
  std::printf(
      "failover: first event from the new primary stored within %lld ms of the primary's SIGKILL "
      "(failover_after 2 s)\n",
      static_cast<long long>(switched_ms));
  load.request_stop();
  load.join();

  const std::string standby_pos = single_value(*standby, "SELECT @@gtid_binlog_pos");
  const std::string standby_sum = single_value(*standby, "SELECT COUNT(*) FROM app.t");
  for (MariaDbServer* replica : {gtid_replica.get(), file_replica.get()}) {
    EXPECT_TRUE(wait_until([&] { return caught_up(*replica, standby_pos); }, seconds(60), milliseconds(50)))
        << single_value(*replica, "SELECT @@gtid_slave_pos") << " vs " << standby_pos;
    auto mine = replica->query("CHECKSUM TABLE app.t");
    auto theirs = standby->query("CHECKSUM TABLE app.t");
    ASSERT_TRUE(mine && theirs);
    EXPECT_EQ(*mine, *theirs);
  }
  std::vector<std::string> files;
  const auto gtids = stored_gtids(*relay, files);
  ASSERT_GE(files.size(), 2U);
  EXPECT_EQ(files.front(), "primary-bin.000001");
  EXPECT_EQ(files.back().rfind("standby-bin.", 0), 0U) << files.back();
  std::set<std::string> unique(gtids.begin(), gtids.end());
  EXPECT_EQ(unique.size(), gtids.size()) << "a GTID stored twice";
  // Every GTID the standby executed: 0-1-1..0-1-n from the primary, then 0-2-(n+1)..m of its own.
  const std::string last = standby_pos.substr(standby_pos.rfind('-') + 1);
  EXPECT_EQ(gtids.size(), std::stoul(last)) << standby_pos;
  auto status = relay->query("SHOW RELAY STATUS");
  ASSERT_TRUE(status);
  EXPECT_NE(status->find(fmt::format("Source\t127.0.0.1:{}", standby->port())), std::string::npos) << *status;
  EXPECT_NE(status->find("Source_Switches\t1"), std::string::npos) << *status;
  (void)standby_sum;
}

TEST(UpstreamFailover, RefusesCandidatesThatAreBehindOrHoldErrantTransactions) {
  auto primary = start_server(1, "primary-bin");
  auto behind = start_server(2, "behind-bin");
  auto errant = start_server(3, "errant-bin");
  ASSERT_TRUE(primary && behind && errant);
  ASSERT_TRUE(primary->execute("CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY) ENGINE=InnoDB"));
  for (MariaDbServer* standby : {behind.get(), errant.get()}) {
    ASSERT_TRUE(
        replicate_from(*standby, "127.0.0.1", primary->port(), "root", "", "MASTER_USE_GTID=slave_pos"));
  }
  const std::string created = single_value(*primary, "SELECT @@gtid_binlog_pos");
  for (MariaDbServer* standby : {behind.get(), errant.get()})
    ASSERT_TRUE(wait_until([&] { return caught_up(*standby, created); }, seconds(60), milliseconds(50)));
  // `behind` stops replicating; `errant` gets a write of its own, then keeps replicating.
  ASSERT_TRUE(behind->execute("STOP SLAVE"));
  ASSERT_TRUE(errant->execute("INSERT INTO app.t VALUES (1000)"));
  const std::string errant_gtid = single_value(*errant, "SELECT @@gtid_binlog_pos");
  ASSERT_EQ(errant_gtid.rfind("0-3-", 0), 0U) << errant_gtid;
  auto relay = start_relay({primary.get(), behind.get(), errant.get()});
  ASSERT_TRUE(relay && relay->process);
  for (int i = 1; i <= 5; ++i)
    ASSERT_TRUE(primary->execute(fmt::format("INSERT INTO app.t VALUES ({})", i)));
  const std::string primary_pos = single_value(*primary, "SELECT @@gtid_binlog_pos");
  ASSERT_TRUE(wait_until([&] { return caught_up(*errant, primary_pos); }, seconds(60), milliseconds(50)));
  ASSERT_TRUE(wait_until(
      [&] {
        auto gtid = relay->query("SELECT @@gtid_binlog_pos");
        return gtid && gtid->find(primary_pos) != std::string::npos;
      },
      seconds(60), milliseconds(50)));
  ASSERT_TRUE(behind->execute("SET GLOBAL read_only = 0"));
  ASSERT_TRUE(errant->execute("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0"));
  primary->kill();

  const std::string seq_created = created.substr(created.rfind('-') + 1);
  const std::string seq_last = primary_pos.substr(primary_pos.rfind('-') + 1);
  const std::string behind_message =
      fmt::format("behind: lacks 0-1-{}..0-1-{}", std::stoul(seq_created) + 1, seq_last);
  const std::string errant_message = fmt::format("errant: has {}", errant_gtid);
  EXPECT_TRUE(wait_until(
      [&] {
        const std::string log = relay->process->log();
        return log.find(behind_message) != std::string::npos && log.find(errant_message) != std::string::npos;
      },
      seconds(60), milliseconds(50)))
      << "expected '" << behind_message << "' and '" << errant_message << "' in\n"
      << relay->process->log();
  std::vector<std::string> files;
  stored_gtids(*relay, files);
  for (const std::string& file : files)
    EXPECT_EQ(file.rfind("primary-bin.", 0), 0U) << "nothing of a refused candidate is stored: " << file;
  auto status = relay->query("SHOW RELAY STATUS");
  ASSERT_TRUE(status);
  EXPECT_NE(status->find("Source_Switches\t0"), std::string::npos) << *status;
}

// The seq_no of a one-domain GTID position ("0-1-57" -> 57; 0 for "").
std::uint64_t seq_of(const std::string& position) {
  const auto dash = position.rfind('-');
  if (dash == std::string::npos) return 0;
  return std::stoull(position.substr(dash + 1));
}

// A one-value answer of the relay, without the trailing newline.
std::string relay_value(const FailoverRelay& relay, const std::string& sql) {
  auto out = relay.query(sql);
  if (!out) return "";
  std::string text = *out;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return text;
}

// A SHOW RELAY STATUS row's value ("" when absent).
std::string status_row(const FailoverRelay& relay, const std::string& name) {
  auto status = relay.query("SHOW RELAY STATUS");
  if (!status) return "";
  std::istringstream lines(*status);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + "\t", 0) == 0) return line.substr(name.size() + 1);
  }
  return "";
}

constexpr int kSbTables = 3;
constexpr int kSbRows = 200;

// After the switch: both replicas of the relay reach the standby's position with its checksums, and
// the relay's binlogs hold every GTID the standby executed exactly once.
void expect_everything_from_the_standby(MariaDbServer& standby, const FailoverRelay& relay,
                                        const std::vector<MariaDbServer*>& replicas) {
  const std::string standby_pos = single_value(standby, "SELECT @@gtid_binlog_pos");
  ASSERT_EQ(standby_pos.rfind("0-2-", 0), 0U) << standby_pos;
  for (MariaDbServer* replica : replicas) {
    EXPECT_TRUE(wait_until([&] { return caught_up(*replica, standby_pos); }, seconds(60), milliseconds(50)))
        << single_value(*replica, "SELECT @@gtid_slave_pos") << " vs " << standby_pos;
    for (int table = 1; table <= kSbTables; ++table) {
      const std::string sql = fmt::format("CHECKSUM TABLE sbtest.sbtest{}", table);
      auto mine = replica->query(sql);
      auto theirs = standby.query(sql);
      ASSERT_TRUE(mine && theirs);
      EXPECT_EQ(*mine, *theirs) << sql;
    }
  }
  std::vector<std::string> files;
  const auto gtids = stored_gtids(relay, files);
  ASSERT_GE(files.size(), 2U);
  EXPECT_EQ(files.front(), "primary-bin.000001");
  EXPECT_EQ(files.back().rfind("standby-bin.", 0), 0U) << files.back();
  const std::set<std::string> unique(gtids.begin(), gtids.end());
  EXPECT_EQ(unique.size(), gtids.size()) << "a GTID stored twice";
  // 0-1-1..0-1-n of the old primary (some through the relay's gap filling), then 0-2-(n+1)..m.
  EXPECT_EQ(gtids.size(), seq_of(standby_pos)) << standby_pos;
  EXPECT_EQ(status_row(relay, "Source"), fmt::format("127.0.0.1:{}", standby.port()));
  EXPECT_EQ(status_row(relay, "Source_Switches"), "1");
  EXPECT_EQ(status_row(relay, "Source_Candidates_Refused"), "-");
}

// The refusal of a standby that lacks `missing_from`.. of the relay's `stored` state names the
// relay-as-gap-filler fix (log, SHOW RELAY STATUS, the refused counter's reason).
void expect_catch_up_advice(const FailoverRelay& relay, const std::string& refusal,
                            std::uint64_t missing_from, const std::string& stored,
                            std::uint16_t metrics_port) {
  EXPECT_NE(refusal.find(fmt::format("behind: lacks 0-1-{}", missing_from)), std::string::npos) << refusal;
  EXPECT_NE(refusal.find(fmt::format("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}", relay.port)),
            std::string::npos)
      << refusal;
  EXPECT_NE(refusal.find("MASTER_USE_GTID=slave_pos; START SLAVE; until @@gtid_slave_pos contains " + stored),
            std::string::npos)
      << refusal;
  EXPECT_NE(relay.process->log().find("catch up from the relay first"), std::string::npos);
  EXPECT_NE(http_get(metrics_port, "/metrics").find("reason=\"behind_catch_up_from_relay\""),
            std::string::npos);
}

// Issue 15's acceptance under sysbench: the load runs on the primary without pauses and the SIGKILL
// lands while it writes. The standby stops replicating at once (what an orchestrator does), so it
// may lack transactions the relay stored (not yet received, or received and not yet applied: its
// relay log goes with CHANGE MASTER). The relay refuses it as behind and names the fix; the standby
// catches up from the relay, is promoted, takes the load, and the relay continues from it. A
// restarted relay then continues from the standby, the source it followed last.
TEST(UpstreamFailover, RelayFillsTheGapOfAStandbyPromotedAfterAKillUnderSysbench) {
  auto primary = start_server(1, "primary-bin");
  // A durable standby (every applied transaction synced), applying on one SQL thread what the
  // primary commits on several: it lags under load, as standbys do.
  auto standby =
      start_server(2, "standby-bin", true, {"--sync-binlog=1", "--innodb-flush-log-at-trx-commit=1"});
  ASSERT_TRUE(primary && standby);
  ASSERT_TRUE(
      replicate_from(*standby, "127.0.0.1", primary->port(), "root", "", "MASTER_USE_GTID=slave_pos"));
  ASSERT_TRUE(standby->execute("SET GLOBAL read_only = 1"));
  ASSERT_TRUE(sysbench_prepare(*primary, kSbTables, kSbRows));
  const std::uint16_t metrics_port = free_loopback_port().value_or(0);
  auto relay = start_relay({primary.get(), standby.get()}, metrics_port);
  ASSERT_TRUE(relay && relay->process);
  auto gtid_replica = start_server(11, "r1", false);
  auto file_replica = start_server(12, "r2", false);
  ASSERT_TRUE(gtid_replica && file_replica);
  ASSERT_TRUE(
      replicate_from(*gtid_replica, "127.0.0.1", relay->port, "repl", "replpw", "MASTER_USE_GTID=slave_pos"));
  ASSERT_TRUE(replicate_from(*file_replica, "127.0.0.1", relay->port, "repl", "replpw",
                             "MASTER_LOG_FILE='primary-bin.000001', MASTER_LOG_POS=4"));

  const std::uint64_t prepared = seq_of(single_value(*primary, "SELECT @@gtid_binlog_pos"));
  auto load = start_sysbench(*primary, kSbTables, kSbRows, 300, 8, relay->dir->file("sysbench-primary.log"));
  ASSERT_TRUE(load) << load.error().message();
  // Mid-stream: once the relay stored 200 of the load's transactions, while sysbench keeps writing.
  ASSERT_TRUE(
      wait_until([&] { return seq_of(relay_value(*relay, "SELECT @@gtid_binlog_pos")) >= prepared + 200; },
                 seconds(120), milliseconds(5)));
  primary->kill();
  (void)load->stop(seconds(10));  // sysbench fails without its server: expected
  ASSERT_TRUE(standby->execute("STOP SLAVE"));
  const std::uint64_t standby_had = seq_of(single_value(*standby, "SELECT @@gtid_binlog_pos"));

  // The relay's failover round refuses the standby: behind, or read-only when it lacks nothing. A
  // round may have probed the standby before STOP SLAVE, while its SQL thread still applied: wait
  // for one (a round a second) that saw it stopped, at standby_had.
  std::string refusal;
  const std::string standby_address = fmt::format("127.0.0.1:{}", standby->port());
  const std::string lacks_after_stop = fmt::format("behind: lacks 0-1-{}", standby_had + 1);
  ASSERT_TRUE(wait_until(
      [&] {
        refusal = status_row(*relay, "Source_Candidates_Refused");
        if (refusal.find(standby_address) == std::string::npos) return false;
        if (refusal.find("behind: lacks") == std::string::npos) return true;
        const auto at = refusal.find(lacks_after_stop);
        const auto next = at + lacks_after_stop.size();
        return at != std::string::npos && (next == refusal.size() || std::isdigit(refusal[next]) == 0);
      },
      seconds(60), milliseconds(50)))
      << refusal << "\n"
      << relay->process->log();
  const std::string stored = relay_value(*relay, "SELECT @@gtid_binlog_pos");
  const std::uint64_t relay_had = seq_of(stored);
  std::printf(
      "failover: the relay stored up to %s when the primary died; the standby had 0-1-%llu: it lacked %lld "
      "transactions at promotion\n",
      stored.c_str(), static_cast<unsigned long long>(standby_had),
      static_cast<long long>(relay_had) - static_cast<long long>(standby_had));
  if (relay_had > standby_had) expect_catch_up_advice(*relay, refusal, standby_had + 1, stored, metrics_port);

  // The documented procedure: catch up from the relay, then promote.
  if (relay_had >= standby_had) {
    ASSERT_TRUE(
        replicate_from(*standby, "127.0.0.1", relay->port, "repl", "replpw", "MASTER_USE_GTID=slave_pos"));
    ASSERT_TRUE(wait_until([&] { return caught_up(*standby, stored); }, seconds(60), milliseconds(20)))
        << single_value(*standby, "SELECT @@gtid_slave_pos") << " vs " << stored;
  }
  ASSERT_TRUE(standby->execute("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0"));
  auto moved = start_sysbench(*standby, kSbTables, kSbRows, 3, 2, relay->dir->file("sysbench-standby.log"));
  ASSERT_TRUE(moved) << moved.error().message();
  auto exit_status = moved->wait(seconds(60));
  ASSERT_TRUE(exit_status && *exit_status == 0)
      << read_file(relay->dir->file("sysbench-standby.log")).value_or("");
  ASSERT_TRUE(wait_until(
      [&] { return relay->process->log().find("first event from the new source") != std::string::npos; },
      seconds(60), milliseconds(20)))
      << relay->process->log();
  expect_everything_from_the_standby(*standby, *relay, {gtid_replica.get(), file_replica.get()});

  // Restarted, the relay continues from the standby at once instead of probing the dead primary first.
  ASSERT_TRUE(relay->process->stop());
  ASSERT_TRUE(launch_relay(*relay));
  ASSERT_TRUE(wait_until(
      [&] { return relay->process->log().find("connected to " + standby_address) != std::string::npos; },
      seconds(60), milliseconds(20)))
      << relay->process->log();
  EXPECT_NE(relay->process->log().find("the [source] hosts server the relay followed last"),
            std::string::npos);
  EXPECT_EQ(relay->process->log().find("switching the source"), std::string::npos) << relay->process->log();
  EXPECT_EQ(status_row(*relay, "Source"), standby_address);
}

}  // namespace
}  // namespace brelay::testing
