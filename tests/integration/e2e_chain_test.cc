// The live chain end to end, every piece real: a MariaDB source under sysbench oltp_write_only, the
// `binlog-relay` executable pulling it as a replica and serving it as a master, and real consumers:
//  - three MariaDB replicas of the relay at once, under one 60 s load: (a) by file/position from
//    the source's SHOW MASTER STATUS read before the load, (b) by GTID (MASTER_USE_GTID =
//    slave_pos), (c) over TLS verifying the relay's certificate against the test CA;
//  - `mariadb-binlog --raw --stop-never` started before the load receives it live, and
//    `mariadb-binlog --raw --to-last-log` gets byte-identical files from the relay and the source;
//  - a relay tier: a second relay whose source is the first stores files byte-identical to the
//    MariaDB source's and serves a MariaDB replica of its own;
//  - after the source purged everything but its current binlog, brand-new replicas replicate the
//    whole history through the relay, by file/position from the first file and by GTID;
//  - SIGHUP adds an account that can log in while an existing replica keeps streaming.
// Each replica ends with CHECKSUM TABLE equal to the source's and SHOW SLAVE STATUS without errors.
// The servers are shared by the tests of the suite, which run in the order written.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include "tests/integration/upstream_harness.h"
#include "tests/support/replication_checks.h"
#include "tests/support/served_store.h"
#include "tests/support/single_value.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

#define ASSERT_OK(status_expression)                   \
  do {                                                 \
    const Status status_ = (status_expression);        \
    ASSERT_TRUE(status_) << status_.error().message(); \
  } while (false)

constexpr int kTables = 2;
constexpr int kTableSize = 5000;
constexpr const char* kSysbenchTables = "sbtest.sbtest1, sbtest.sbtest2";  // kTables of them
constexpr int kLoadSeconds = 60;
constexpr int kLoadThreads = 2;
constexpr int kLoadRate = 15;  // transactions per second, small enough for a 2-core machine

Result<std::unique_ptr<MariaDbServer>> start_replica(std::uint32_t server_id) {
  MariaDbOptions options;
  options.server_id = server_id;
  options.log_bin = false;
  return MariaDbServer::start(options);
}

std::string change_master(std::uint16_t port, const std::string& positioning) {
  return fmt::format(
      "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', "
      "MASTER_PASSWORD='replpw', MASTER_CONNECT_RETRY=1, {}; START SLAVE",
      port, positioning);
}

// Expects every file of `files` but the last to be byte-identical in `received_dir` and in the
// source's data directory; returns how many it compared.
std::size_t expect_closed_files_identical(MariaDbServer& source, const std::vector<std::string>& files,
                                          const std::string& received_dir) {
  std::size_t compared = 0;
  for (std::size_t i = 0; i + 1 < files.size(); ++i) {
    auto expected = read_file(source.binlog_path(files[i]));
    auto received = read_file(received_dir + "/" + files[i]);
    EXPECT_TRUE(expected) << expected.error().message();
    EXPECT_TRUE(received) << files[i] << ": " << received.error().message();
    if (!expected || !received) continue;
    EXPECT_EQ(received->size(), expected->size()) << files[i];
    EXPECT_TRUE(*received == *expected) << files[i] << " differs";
    ++compared;
  }
  return compared;
}

// sysbench oltp_write_only at the test's rate for `seconds`, output appended to `log_path`.
Result<Process> start_load(MariaDbServer& source, int seconds, const std::string& log_path) {
  ProcessOptions load;
  load.argv = {"sysbench",
               "oltp_write_only",
               "--db-driver=mysql",
               "--mysql-socket=" + source.socket_path(),
               "--mysql-user=root",
               "--mysql-db=sbtest",
               fmt::format("--tables={}", kTables),
               fmt::format("--table-size={}", kTableSize),
               fmt::format("--time={}", seconds),
               fmt::format("--threads={}", kLoadThreads),
               fmt::format("--rate={}", kLoadRate),
               "--report-interval=10",
               "run"};
  load.stdout_path = log_path;
  load.stderr_path = log_path;
  load.append_output = true;
  return Process::start(load);
}

class LiveChain : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto started = std::chrono::steady_clock::now();
    auto tls = testing::TlsTestDir::create("e2e-chain");
    ASSERT_TRUE(tls) << tls.error().message();
    tls_ = std::move(*tls);

    MariaDbOptions source_options;
    source_options.server_id = 1;
    source_options.gtid_domain_id = 0;
    source_options.max_binlog_size = 1 << 20;  // several files
    auto source = MariaDbServer::start(source_options);
    ASSERT_TRUE(source) << source.error().message();
    source_ = source->release();
    // (a) takes these coordinates, read before anything of the load exists.
    auto status = master_status(*source_);
    ASSERT_TRUE(status) << status.error().message();
    start_file_ = status->first;
    start_position_ = status->second;
    ASSERT_TRUE(sysbench_prepare(*source_, kTables, kTableSize));

    TestRelayConfig config;
    config.data_dir = tls_->file("relay-data");
    config.source_port = source_->port();
    config.source_server_id = 4001;
    config.server_id = 4002;
    config.source_extra = "heartbeat_period = \"500ms\"\nreconnect_max_delay = \"1s\"\n";
    config.server_extra = fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"\n", tls_->certs().server_cert,
                                      tls_->certs().server_key);
    auto port = free_loopback_port();
    ASSERT_TRUE(port);
    relay_port_ = *port;
    config.listen = fmt::format("127.0.0.1:{}", relay_port_);
    relay_config_ = new TestRelayConfig(config);
    auto relay = RelayProcess::start(config);
    ASSERT_TRUE(relay) << relay.error().message();
    relay_ = relay->release();
    // The tier starts at once: until the relay has reached its source it refuses dumps (it does not
    // know the source's flavour yet), and the tier retries (unknown_source_test).

    // The tier: a second relay pulling from the first with the first's replica account.
    TestRelayConfig tier_config;
    tier_config.data_dir = tls_->file("tier-data");
    tier_config.source_port = relay_port_;
    tier_config.source_user = "repl";
    tier_config.source_password = "replpw";
    tier_config.source_server_id = 4011;
    tier_config.server_id = 4012;
    tier_config.source_extra = config.source_extra;
    auto tier_port = free_loopback_port();
    ASSERT_TRUE(tier_port);
    tier_port_ = *tier_port;
    tier_config.listen = fmt::format("127.0.0.1:{}", tier_port_);
    auto tier = RelayProcess::start(tier_config);
    ASSERT_TRUE(tier) << tier.error().message();
    tier_ = tier->release();

    // The replicas, all started before the load (one after the other: a server dies with the
    // thread that started it, PR_SET_PDEATHSIG).
    Result<std::unique_ptr<MariaDbServer>> replicas[4] = {
        make_error("not started"), make_error("not started"), make_error("not started"),
        make_error("not started")};
    for (int i = 0; i < 4; ++i) {
      replicas[i] = start_replica(static_cast<std::uint32_t>(11 + i));
      ASSERT_TRUE(replicas[i]) << replicas[i].error().message();
    }
    by_position_ = replicas[0]->release();
    by_gtid_ = replicas[1]->release();
    over_tls_ = replicas[2]->release();
    of_tier_ = replicas[3]->release();
    ASSERT_OK(by_position_->execute(
        change_master(relay_port_, fmt::format("MASTER_LOG_FILE='{}', MASTER_LOG_POS={}, MASTER_USE_GTID=no",
                                               start_file_, start_position_))));
    ASSERT_OK(by_gtid_->execute(change_master(relay_port_, "MASTER_USE_GTID=slave_pos")));
    ASSERT_OK(over_tls_->execute(
        change_master(relay_port_, fmt::format("MASTER_USE_GTID=slave_pos, MASTER_SSL=1, MASTER_SSL_CA='{}', "
                                               "MASTER_SSL_VERIFY_SERVER_CERT=1",
                                               tls_->certs().ca_cert))));
    ASSERT_OK(of_tier_->execute(change_master(tier_port_, "MASTER_USE_GTID=slave_pos")));

    // A binlog reader that stays connected: everything of the load reaches it live.
    live_reader_dir_ = tls_->file("live-reader");
    std::filesystem::create_directories(live_reader_dir_);
    auto files = binary_logs(*source_);
    ASSERT_TRUE(files && !files->empty());
    first_file_ = files->front();
    ProcessOptions reader;
    reader.argv = mariadb_binlog_argv(relay_port_, "repl", "replpw");
    reader.argv.insert(reader.argv.end(),
                       {"--raw", "--to-last-log", "--stop-never", "--stop-never-slave-server-id=21",
                        "--result-file=" + live_reader_dir_ + "/", first_file_});
    reader.stderr_path = tls_->file("live-reader.err");
    auto live = Process::start(reader);
    ASSERT_TRUE(live) << live.error().message();
    live_reader_ = new Process(std::move(*live));

    // The reader has everything written before the load: what it receives from now on is live.
    auto sizes = source_->query("SHOW BINARY LOGS");
    ASSERT_TRUE(sizes) << sizes.error().message();
    std::uint64_t before_load = 0;
    for (const auto& row : *sizes)
      before_load += std::stoull(row.at(1));
    const auto reader_deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < reader_deadline &&
           received_bytes(live_reader_dir_) < before_load)
      std::this_thread::sleep_for(100ms);
    live_bytes_before_load_ = received_bytes(live_reader_dir_);
    ASSERT_EQ(live_bytes_before_load_, before_load) << read_file(tls_->file("live-reader.err")).value_or("");

    // One load for everything.
    const auto load_started = std::chrono::steady_clock::now();
    auto running = start_load(*source_, kLoadSeconds, tls_->file("sysbench.log"));
    ASSERT_TRUE(running) << running.error().message();
    // Halfway: the live reader already has part of the load.
    std::this_thread::sleep_for(std::chrono::seconds(kLoadSeconds / 2));
    live_bytes_halfway_ = received_bytes(live_reader_dir_);
    auto finished = running->wait(std::chrono::seconds(kLoadSeconds + 120));
    ASSERT_TRUE(finished) << finished.error().message();
    ASSERT_EQ(*finished, 0) << read_file(tls_->file("sysbench.log")).value_or("");
    load_log_ = read_file(tls_->file("sysbench.log")).value_or("");
    fprintf(stderr, "setup %.1f s, of which the load %.1f s\n",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - load_started).count());
  }

  static void TearDownTestSuite() {
    delete live_reader_;
    for (MariaDbServer* server : {by_position_, by_gtid_, over_tls_, of_tier_})
      delete server;
    delete tier_;
    delete relay_;
    delete relay_config_;
    delete source_;
    tls_.reset();
  }

  void SetUp() override {
    if (source_ == nullptr || relay_ == nullptr || tier_ == nullptr || over_tls_ == nullptr ||
        live_reader_ == nullptr || load_log_.empty())
      GTEST_FAIL() << "the suite's setup failed";
  }

  static std::uint64_t received_bytes(const std::string& directory) {
    std::uint64_t total = 0;
    for (const auto& entry : std::filesystem::directory_iterator(directory))
      total += entry.file_size();
    return total;
  }

  static inline std::unique_ptr<testing::TlsTestDir> tls_;
  static MariaDbServer* source_;
  static TestRelayConfig* relay_config_;
  static RelayProcess* relay_;
  static RelayProcess* tier_;
  static std::uint16_t relay_port_;
  static std::uint16_t tier_port_;
  static MariaDbServer* by_position_;
  static MariaDbServer* by_gtid_;
  static MariaDbServer* over_tls_;
  static MariaDbServer* of_tier_;
  static Process* live_reader_;
  static std::string live_reader_dir_;
  static std::uint64_t live_bytes_before_load_;
  static std::uint64_t live_bytes_halfway_;
  static std::string first_file_;
  static std::string start_file_;
  static std::uint64_t start_position_;
  static std::string load_log_;
};

MariaDbServer* LiveChain::source_ = nullptr;
TestRelayConfig* LiveChain::relay_config_ = nullptr;
RelayProcess* LiveChain::relay_ = nullptr;
RelayProcess* LiveChain::tier_ = nullptr;
std::uint16_t LiveChain::relay_port_ = 0;
std::uint16_t LiveChain::tier_port_ = 0;
MariaDbServer* LiveChain::by_position_ = nullptr;
MariaDbServer* LiveChain::by_gtid_ = nullptr;
MariaDbServer* LiveChain::over_tls_ = nullptr;
MariaDbServer* LiveChain::of_tier_ = nullptr;
Process* LiveChain::live_reader_ = nullptr;
std::string LiveChain::live_reader_dir_;
std::uint64_t LiveChain::live_bytes_before_load_ = 0;
std::uint64_t LiveChain::live_bytes_halfway_ = 0;
std::string LiveChain::first_file_;
std::string LiveChain::start_file_;
std::uint64_t LiveChain::start_position_ = 0;
std::string LiveChain::load_log_;

TEST_F(LiveChain, ReplicasByFilePositionByGtidAndOverTlsCatchUpWithEqualChecksums) {
  const auto transactions = load_log_.find("transactions:");
  ASSERT_NE(transactions, std::string::npos) << load_log_;
  fprintf(stderr, "load: %s\n",
          load_log_.substr(transactions, load_log_.find('\n', transactions) - transactions).c_str());
  {
    SCOPED_TRACE("by file/position");
    expect_caught_up_with_equal_checksums(*source_, *by_position_, kSysbenchTables);
    EXPECT_EQ(slave_status(*by_position_)["Using_Gtid"], "No");
  }
  {
    SCOPED_TRACE("by GTID");
    expect_caught_up_with_equal_checksums(*source_, *by_gtid_, kSysbenchTables);
    EXPECT_EQ(slave_status(*by_gtid_)["Using_Gtid"], "Slave_Pos");
  }
  {
    SCOPED_TRACE("over TLS");
    expect_caught_up_with_equal_checksums(*source_, *over_tls_, kSysbenchTables);
    auto status = slave_status(*over_tls_);
    EXPECT_EQ(status["Master_SSL_Allowed"], "Yes");
    EXPECT_EQ(status["Master_SSL_Verify_Server_Cert"], "Yes");
  }
}

TEST_F(LiveChain, MariadbBinlogStopNeverReceivedTheLoadLiveAndRawDumpsAreByteIdentical) {
  // Close the source's current file: every file but the new one is closed on both sides.
  auto caught_up = flush_and_catch_up(*source_, relay_config_->data_dir, 120s, relay_);
  ASSERT_TRUE(caught_up) << caught_up.error().message();
  auto files = binary_logs(*source_);
  ASSERT_TRUE(files) << files.error().message();
  ASSERT_GE(files->size(), 3u);

  // The reader had caught up before the load; it had part of the load halfway and has all of it now.
  const std::string last = live_reader_dir_ + "/" + files->back();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline && !std::filesystem::exists(last))
    std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(live_reader_->running()) << read_file(tls_->file("live-reader.err")).value_or("");
  EXPECT_GT(live_bytes_halfway_, live_bytes_before_load_ + 50'000);
  EXPECT_GT(received_bytes(live_reader_dir_), live_bytes_halfway_);
  EXPECT_EQ(expect_closed_files_identical(*source_, *files, live_reader_dir_), files->size() - 1);
  live_reader_->signal(SIGKILL);
  EXPECT_TRUE(live_reader_->wait(10s));

  // The same dump from the relay and from the source.
  const std::string from_relay = tls_->file("raw-relay");
  const std::string from_source = tls_->file("raw-source");
  for (const auto& [port, user, password, out] :
       {std::tuple{relay_port_, std::string("repl"), std::string("replpw"), from_relay},
        std::tuple{source_->port(), std::string("root"), std::string(""), from_source}}) {
    std::filesystem::create_directories(out);
    auto argv = mariadb_binlog_argv(port, user, password);
    argv.insert(argv.end(), {"--raw", "--to-last-log", "--result-file=" + out + "/", first_file_});
    auto output = run_command(argv, {}, 120s);
    ASSERT_TRUE(output) << output.error().message();
    EXPECT_EQ(output->exit_status, 0) << output->err;
  }
  std::size_t compared = 0;
  for (std::size_t i = 0; i + 1 < files->size(); ++i) {
    auto relay_bytes = read_file(from_relay + "/" + (*files)[i]);
    auto source_bytes = read_file(from_source + "/" + (*files)[i]);
    ASSERT_TRUE(relay_bytes && source_bytes) << (*files)[i];
    EXPECT_TRUE(*relay_bytes == *source_bytes)
        << (*files)[i] << ": " << relay_bytes->size() << " bytes from the relay, " << source_bytes->size()
        << " from the source";
    ++compared;
  }
  EXPECT_EQ(compared, files->size() - 1);
  fprintf(stderr, "raw dumps: %zu closed files, %ju bytes, identical from the relay and the source\n",
          compared, static_cast<std::uintmax_t>(received_bytes(from_source)));
  // And both are the source's own files.
  EXPECT_EQ(expect_closed_files_identical(*source_, *files, from_relay), files->size() - 1);
}

TEST_F(LiveChain, ARelayTierStoresTheSourcesFilesAndServesAReplica) {
  auto caught_up = flush_and_catch_up(*source_, relay_config_->data_dir, 120s, relay_);
  ASSERT_TRUE(caught_up) << caught_up.error().message();
  const std::string tier_data = tls_->file("tier-data");
  auto tier_caught_up = wait_for_catch_up(*source_, tier_data, 120s, tier_);
  ASSERT_TRUE(tier_caught_up) << tier_caught_up.error().message();
  std::filesystem::create_directories(tls_->file("tier-export"));
  auto comparison = compare_closed_files(*source_, tier_data, tls_->file("tier-export"));
  ASSERT_TRUE(comparison) << comparison.error().message();
  EXPECT_GE(comparison->compared, 3u);
  EXPECT_TRUE(comparison->differences.empty())
      << fmt::format("{}", fmt::join(comparison->differences, "\n")) << relay_log_tail(tier_);
  auto source_files = binary_logs(*source_);
  auto tier_files = stored_files(tier_data);
  ASSERT_TRUE(source_files && tier_files);
  ASSERT_EQ(tier_files->size(), source_files->size());
  for (std::size_t i = 0; i < tier_files->size(); ++i)
    EXPECT_EQ((*tier_files)[i].name, (*source_files)[i]);
  expect_caught_up_with_equal_checksums(*source_, *of_tier_, kSysbenchTables);
}

TEST_F(LiveChain, SigtermDuringTheLoadLosesNothingAndTheReplicasCarryOnAfterTheRestart) {
  // The configuration outlives the relay process that is stopped here.
  const std::string config_path = tls_->file("relay.toml");
  ASSERT_TRUE(write_file(config_path, relay_config_->to_toml()));
  auto load = start_load(*source_, 20, tls_->file("sysbench-sigterm.log"));
  ASSERT_TRUE(load) << load.error().message();
  std::this_thread::sleep_for(8s);
  auto stopped = relay_->stop();
  ASSERT_TRUE(stopped) << stopped.error().message();
  EXPECT_EQ(*stopped, 0) << relay_log_tail(relay_);
  std::this_thread::sleep_for(2s);  // the source writes on while no relay runs
  auto restarted = RelayProcess::launch(config_path);
  ASSERT_TRUE(restarted) << restarted.error().message();
  delete relay_;
  relay_ = restarted->release();
  auto ready = relay_->wait_for_notification("READY=1", 60s);
  ASSERT_TRUE(ready) << ready.error().message() << relay_log_tail(relay_);
  auto finished = load->wait(120s);
  ASSERT_TRUE(finished) << finished.error().message();
  EXPECT_EQ(*finished, 0) << read_file(tls_->file("sysbench-sigterm.log")).value_or("");

  auto caught_up = flush_and_catch_up(*source_, relay_config_->data_dir, 120s, relay_);
  ASSERT_TRUE(caught_up) << caught_up.error().message();
  auto comparison = compare_closed_files(*source_, relay_config_->data_dir, tls_->file("tier-export"));
  ASSERT_TRUE(comparison) << comparison.error().message();
  EXPECT_GE(comparison->compared, 4u);
  EXPECT_TRUE(comparison->differences.empty())
      << fmt::format("{}", fmt::join(comparison->differences, "\n")) << relay_log_tail(relay_);
  fprintf(stderr, "after SIGTERM and restart: %zu stored files, %ju bytes, identical to the source's\n",
          comparison->compared, static_cast<std::uintmax_t>(comparison->compared_bytes));
  // The replicas reconnected to the new relay process and have everything.
  for (MariaDbServer* replica : {by_position_, by_gtid_, over_tls_}) {
    SCOPED_TRACE(replica->options().server_id);
    expect_caught_up_with_equal_checksums(*source_, *replica, kSysbenchTables);
  }
}

// PURGE BINARY LOGS TO `file`, retried for a while: the source keeps a file until InnoDB has
// flushed the commits it logged (once a second with innodb_flush_log_at_trx_commit = 2).
Status purge_to(MariaDbServer& source, const std::string& file) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    BRELAY_TRY(source.execute(fmt::format("PURGE BINARY LOGS TO '{}'", file)));
    BRELAY_ASSIGN_OR_RETURN(std::vector<std::string> left, binary_logs(source));
    if (!left.empty() && left.front() == file) return {};
    std::this_thread::sleep_for(200ms);
  }
  return make_error("the source kept its binlogs before {} after PURGE BINARY LOGS", file);
}

TEST_F(LiveChain, AfterTheSourcePurgedItsHistoryNewReplicasGetAllOfItFromTheRelay) {
  auto caught_up = flush_and_catch_up(*source_, relay_config_->data_dir, 120s, relay_);
  ASSERT_TRUE(caught_up) << caught_up.error().message();
  auto status = master_status(*source_);
  ASSERT_TRUE(status);
  ASSERT_TRUE(purge_to(*source_, status->first));
  auto left = binary_logs(*source_);
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  ASSERT_NE(left->front(), first_file_);

  auto from_first_file = start_replica(15);
  auto from_empty_gtid = start_replica(16);
  ASSERT_TRUE(from_first_file) << from_first_file.error().message();
  ASSERT_TRUE(from_empty_gtid) << from_empty_gtid.error().message();
  ASSERT_OK((*from_first_file)
                ->execute(change_master(
                    relay_port_,
                    fmt::format("MASTER_LOG_FILE='{}', MASTER_LOG_POS=4, MASTER_USE_GTID=no", first_file_))));
  ASSERT_EQ(single_value(**from_empty_gtid, "SELECT @@gtid_slave_pos"), "");
  ASSERT_OK((*from_empty_gtid)->execute(change_master(relay_port_, "MASTER_USE_GTID=slave_pos")));
  {
    SCOPED_TRACE("by file/position from the first file");
    expect_caught_up_with_equal_checksums(*source_, **from_first_file, kSysbenchTables);
  }
  {
    SCOPED_TRACE("by GTID from an empty gtid_slave_pos");
    expect_caught_up_with_equal_checksums(*source_, **from_empty_gtid, kSysbenchTables);
  }
}

TEST_F(LiveChain, SighupAddsAnAccountWhileAReplicaKeepsStreaming) {
  auto refused = mariadb_sql(relay_port_, "late", "latepw", "SELECT 1");
  ASSERT_TRUE(refused) << refused.error().message();
  EXPECT_NE(refused->exit_status, 0);

  TestRelayConfig config = *relay_config_;
  config.users += "[[users]]\nname = \"late\"\npassword = \"latepw\"\nrole = \"replica\"\n";
  ASSERT_TRUE(write_file(relay_->config_path(), config.to_toml()));
  relay_->signal(SIGHUP);
  CommandOutput accepted;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto attempt = mariadb_sql(relay_port_, "late", "latepw", "SELECT 1");
    ASSERT_TRUE(attempt) << attempt.error().message();
    accepted = *attempt;
    if (accepted.exit_status == 0) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(accepted.exit_status, 0) << accepted.err << relay_log_tail(relay_);

  // The replica connected before the reload goes on with what the source writes after it.
  ASSERT_TRUE(source_->execute("INSERT INTO sbtest.sbtest1 (k, c, pad) VALUES (1, 'after SIGHUP', 'x')"));
  expect_caught_up_with_equal_checksums(*source_, *by_gtid_, kSysbenchTables);
  EXPECT_TRUE(relay_->running());
}

}  // namespace
}  // namespace brelay::testing
