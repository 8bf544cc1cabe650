// Real MariaDB replicas replicating through the relay, on a history a real MariaDB source wrote
// under sysbench oltp_write_only and that was imported into the relay's store (the live chain with
// the upstream has its own test): (a) by file/position with the coordinates read from the source's
// SHOW MASTER STATUS before the load, (b) by GTID (MASTER_USE_GTID = slave_pos) as a brand-new
// replica after the source purged every binlog but its current one, (c) over TLS with
// MASTER_SSL_VERIFY_SERVER_CERT against the test CA. Each ends with CHECKSUM TABLE equal to the
// source's and SHOW SLAVE STATUS without errors.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "tests/support/mariadb_server.h"
#include "tests/support/served_store.h"
#include "tests/support/single_value.h"
#include "tests/support/test_certs.h"

namespace brelay::testing {
namespace {

constexpr int kLoadSeconds = 8;

Rows checksums(MariaDbServer& server) {
  auto rows = server.query("CHECKSUM TABLE sbtest.sbtest1, sbtest.sbtest2");
  EXPECT_TRUE(rows) << rows.error().message();
  return rows ? *rows : Rows();
}

class MariadbReplicasThroughTheRelay : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tls = testing::TlsTestDir::create("mariadb-replicas");
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
    auto status = source_->query("SHOW MASTER STATUS");
    ASSERT_TRUE(status && !status->empty()) << (status ? "no row" : status.error().message());
    start_file_ = (*status)[0][0];
    start_position_ = (*status)[0][1];
    ASSERT_TRUE(source_->execute("CREATE DATABASE sbtest"));
    const std::vector<std::string> sysbench = {
        "sysbench",          "oltp_write_only",
        "--db-driver=mysql", "--mysql-socket=" + source_->socket_path(),
        "--mysql-user=root", "--mysql-db=sbtest",
        "--tables=2",        "--table-size=5000"};
    auto prepare = sysbench;
    prepare.push_back("prepare");
    auto prepared = run_command(prepare, {}, std::chrono::seconds(120));
    ASSERT_TRUE(prepared && prepared->exit_status == 0)
        << (prepared ? prepared->err : prepared.error().message());
    auto run = sysbench;
    run.insert(run.end(), {"--threads=4", "--time=" + std::to_string(kLoadSeconds), "run"});
    auto ran = run_command(run, {}, std::chrono::seconds(120));
    ASSERT_TRUE(ran && ran->exit_status == 0) << (ran ? ran->err : ran.error().message());
    source_checksums_ = checksums(*source_);
    source_gtid_pos_ = single_value(*source_, "SELECT @@gtid_binlog_pos");
    auto files = source_->query("SHOW BINARY LOGS");
    ASSERT_TRUE(files) << files.error().message();
    std::vector<std::string> paths;
    for (const auto& row : *files)
      paths.push_back(source_->binlog_path(row[0]));
    ASSERT_GE(paths.size(), 3u);
    last_file_ = files->back()[0];
    // A clean shutdown closes the current file; the relay imports the whole history.
    ASSERT_TRUE(source_->stop());
    TestRelayConfig config;
    config.server_extra = fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"\n", tls_->certs().server_cert,
                                      tls_->certs().server_key);
    auto served = serve_binlogs(paths, config);
    ASSERT_TRUE(served) << served.error().message();
    served_ = new ServedStore(std::move(*served));
    // The source purges every binlog but its current one: only the relay has the history now.
    ASSERT_TRUE(source_->restart());
    auto current = source_->query("SHOW MASTER STATUS");
    ASSERT_TRUE(current && !current->empty());
    ASSERT_TRUE(source_->execute("PURGE BINARY LOGS TO '" + (*current)[0][0] + "'"));
    auto left = source_->query("SHOW BINARY LOGS");
    ASSERT_TRUE(left);
    ASSERT_EQ(left->size(), 1u);
  }

  static void TearDownTestSuite() {
    delete served_;
    delete source_;
    tls_.reset();
  }

  static std::unique_ptr<MariaDbServer> start_replica(std::uint32_t server_id) {
    MariaDbOptions options;
    options.server_id = server_id;
    options.log_bin = false;
    auto replica = MariaDbServer::start(options);
    EXPECT_TRUE(replica) << replica.error().message();
    return replica ? std::move(*replica) : nullptr;
  }

  // Waits until `replica` has applied everything the source wrote, then compares the tables.
  static void expect_caught_up_with_equal_checksums(MariaDbServer& replica) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    std::map<std::string, std::string> status;
    while (std::chrono::steady_clock::now() < deadline) {
      status = slave_status(replica);
      if (status["Last_IO_Errno"] != "0" || status["Last_SQL_Errno"] != "0") break;
      if (single_value(replica, "SELECT @@gtid_slave_pos") == source_gtid_pos_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_EQ(single_value(replica, "SELECT @@gtid_slave_pos"), source_gtid_pos_);
    EXPECT_EQ(status["Slave_IO_Running"], "Yes") << status["Last_IO_Error"];
    EXPECT_EQ(status["Slave_SQL_Running"], "Yes") << status["Last_SQL_Error"];
    EXPECT_EQ(status["Last_IO_Errno"], "0") << status["Last_IO_Error"];
    EXPECT_EQ(status["Last_SQL_Errno"], "0") << status["Last_SQL_Error"];
    EXPECT_EQ(status["Master_Log_File"], last_file_);
    EXPECT_EQ(checksums(replica), source_checksums_);
  }

  static inline std::unique_ptr<testing::TlsTestDir> tls_;
  static MariaDbServer* source_;
  static ServedStore* served_;
  static std::string start_file_;
  static std::string start_position_;
  static std::string source_gtid_pos_;
  static std::string last_file_;
  static Rows source_checksums_;
};

MariaDbServer* MariadbReplicasThroughTheRelay::source_ = nullptr;
ServedStore* MariadbReplicasThroughTheRelay::served_ = nullptr;
std::string MariadbReplicasThroughTheRelay::start_file_;
std::string MariadbReplicasThroughTheRelay::start_position_;
std::string MariadbReplicasThroughTheRelay::source_gtid_pos_;
std::string MariadbReplicasThroughTheRelay::last_file_;
Rows MariadbReplicasThroughTheRelay::source_checksums_;

TEST_F(MariadbReplicasThroughTheRelay, ByFileAndPositionFromTheSourcesCoordinates) {
  auto replica = start_replica(11);
  ASSERT_TRUE(replica);
  ASSERT_TRUE(
      replica->execute(fmt::format("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, "
                                   "MASTER_USER='repl', MASTER_PASSWORD='replpw', "
                                   "MASTER_LOG_FILE='{}', MASTER_LOG_POS={}, MASTER_USE_GTID=no; START SLAVE",
                                   served_->port, start_file_, start_position_)));
  expect_caught_up_with_equal_checksums(*replica);
}

TEST_F(MariadbReplicasThroughTheRelay, ABrandNewReplicaByGtidAfterTheSourcePurgedEverything) {
  auto replica = start_replica(12);
  ASSERT_TRUE(replica);
  ASSERT_TRUE(
      replica->execute(fmt::format("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, "
                                   "MASTER_USER='repl', MASTER_PASSWORD='replpw', "
                                   "MASTER_USE_GTID=slave_pos; START SLAVE",
                                   served_->port)));
  expect_caught_up_with_equal_checksums(*replica);
  EXPECT_EQ(slave_status(*replica)["Using_Gtid"], "Slave_Pos");
}

TEST_F(MariadbReplicasThroughTheRelay, OverTlsVerifyingTheRelaysCertificate) {
  auto replica = start_replica(13);
  ASSERT_TRUE(replica);
  ASSERT_TRUE(
      replica->execute(fmt::format("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, "
                                   "MASTER_USER='repl', MASTER_PASSWORD='replpw', "
                                   "MASTER_USE_GTID=slave_pos, MASTER_SSL=1, MASTER_SSL_CA='{}', "
                                   "MASTER_SSL_VERIFY_SERVER_CERT=1; START SLAVE",
                                   served_->port, tls_->certs().ca_cert)));
  expect_caught_up_with_equal_checksums(*replica);
  EXPECT_EQ(slave_status(*replica)["Master_SSL_Allowed"], "Yes");
}

}  // namespace
}  // namespace brelay::testing
