// Issue 16's migration rehearsal, every peer real, with MariaDB standing in for the Azure replica:
// a MariaDB source under sysbench oltp_write_only; the `binlog-relay` executable pulling it and
// serving TLS; mydumper snapshots the source while the load runs; myloader loads a fresh MariaDB
// replica; `binlog-relay azure --from-mydumper DIR` prints the setup; the test turns the printed
// CALL's parameters into CHANGE MASTER TO on the replica (the printed @ca PEM written to a file for
// MASTER_SSL_CA, MASTER_SSL=1, the server certificate verified) and the replica, replicating from
// the relay over TLS from the snapshot's coordinates, ends with CHECKSUM TABLE equal to the
// source's. The relay's account requires TLS. The same dump with --gtid is refused: its GTID is MariaDB's,
// which Azure cannot take.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "tests/integration/upstream_harness.h"
#include "tests/support/azure_statements.h"
#include "tests/support/single_value.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kTables = 2;
constexpr int kTableSize = 2000;
constexpr int kLoadSeconds = 6;

Rows checksums(MariaDbServer& server) {
  auto rows = server.query("CHECKSUM TABLE sbtest.sbtest1, sbtest.sbtest2");
  EXPECT_TRUE(rows) << rows.error().message();
  return rows ? *rows : Rows();
}

// sysbench oltp_write_only at a rate a shared 2-core machine keeps up with.
Result<Process> start_load(MariaDbServer& source, const std::string& log_path) {
  ProcessOptions load;
  load.argv = {"sysbench",
               "oltp_write_only",
               "--db-driver=mysql",
               "--mysql-socket=" + source.socket_path(),
               "--mysql-user=root",
               "--mysql-db=sbtest",
               fmt::format("--tables={}", kTables),
               fmt::format("--table-size={}", kTableSize),
               fmt::format("--time={}", kLoadSeconds),
               "--threads=2",
               "--rate=30",
               "--report-interval=0",
               "run"};
  load.stdout_path = log_path;
  load.stderr_path = log_path;
  load.append_output = true;
  return Process::start(load);
}

std::string sql_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

TEST(AzureMigration, MydumperSnapshotThenDataInFromTheRelayOverTls) {
  auto tls = TlsTestDir::create("azure-migration");
  ASSERT_TRUE(tls) << tls.error().message();
  const TlsTestDir& dir = **tls;

  MariaDbOptions source_options;
  source_options.server_id = 1;
  source_options.gtid_domain_id = 0;
  source_options.max_binlog_size = 1 << 20;  // the relay serves across rotations
  auto source = MariaDbServer::start(source_options);
  ASSERT_TRUE(source) << source.error().message();
  ASSERT_TRUE(sysbench_prepare(**source, kTables, kTableSize));

  TestRelayConfig config;
  config.data_dir = dir.file("relay-data");
  config.source_port = (*source)->port();
  config.source_extra = "heartbeat_period = \"500ms\"\nreconnect_max_delay = \"1s\"\n";
  config.server_extra =
      fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"\n", dir.certs().server_cert, dir.certs().server_key);
  // The account logs in over TLS only, so a replica that replicates did so over TLS.
  config.users =
      "[[users]]\nname = \"repl\"\npassword = \"replpw\"\nrole = \"replica\"\nrequire_tls = true\n";
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();

  // The snapshot, taken while the load runs.
  auto load = start_load(**source, dir.file("sysbench.log"));
  ASSERT_TRUE(load) << load.error().message();
  std::this_thread::sleep_for(1s);  // let the load get going (the rehearsal's realism, not a sync point)
  const std::string dump = dir.file("dump");
  auto dumped = run_command({"mydumper", "--socket", (*source)->socket_path(), "--user", "root", "--database",
                             "sbtest", "--threads", "2", "--outputdir", dump},
                            {}, 120s);
  ASSERT_TRUE(dumped) << dumped.error().message();
  ASSERT_EQ(dumped->exit_status, 0) << dumped->out << dumped->err;
  auto finished = load->wait(std::chrono::seconds(kLoadSeconds + 60));
  ASSERT_TRUE(finished) << finished.error().message();
  EXPECT_EQ(*finished, 0) << read_file(dir.file("sysbench.log")).value_or("");
  auto metadata = read_file(dump + "/metadata");
  ASSERT_TRUE(metadata) << metadata.error().message();
  EXPECT_NE(metadata->find("SHOW MASTER STATUS:"), std::string::npos) << *metadata;
  auto after_load = master_status(**source);
  ASSERT_TRUE(after_load) << after_load.error().message();
  EXPECT_EQ(metadata->find(fmt::format("Pos: {}\n", after_load->second)), std::string::npos)
      << "the load went on after the snapshot:\n"
      << *metadata;

  // myloader fills a fresh replica with the snapshot.
  MariaDbOptions replica_options;
  replica_options.server_id = 21;
  replica_options.log_bin = false;
  auto replica = MariaDbServer::start(replica_options);
  ASSERT_TRUE(replica) << replica.error().message();
  auto loaded = run_command({"myloader", "--socket", (*replica)->socket_path(), "--user", "root",
                             "--directory", dump, "--threads", "2", "--overwrite-tables"},
                            {}, 120s);
  ASSERT_TRUE(loaded) << loaded.error().message();
  ASSERT_EQ(loaded->exit_status, 0) << loaded->out << loaded->err;

  // The relay holds the snapshot's coordinates once it caught up with the source.
  ASSERT_TRUE(wait_for_catch_up(**source, config.data_dir, 60s, relay->get()));
  const std::vector<std::string> azure = {binlog_relay_path(),
                                          "azure",
                                          "--config",
                                          (*relay)->config_path(),
                                          "--host",
                                          "127.0.0.1",
                                          "--user",
                                          "repl",
                                          "--password",
                                          "replpw",
                                          "--ca",
                                          dir.certs().ca_cert,
                                          "--from-mydumper",
                                          dump};
  auto printed = run_command(azure);
  ASSERT_TRUE(printed) << printed.error().message();
  ASSERT_EQ(printed->exit_status, 0) << printed->err;
  auto setup = parse_printed_azure_setup(printed->out);
  ASSERT_TRUE(setup) << setup.error().message() << "\n" << printed->out;
  ASSERT_EQ(setup->procedure, "mysql.az_replication_change_master") << printed->out;
  ASSERT_EQ(setup->args.size(), 7u) << printed->out;
  EXPECT_TRUE(setup->starts);
  EXPECT_EQ(metadata->find(fmt::format("Log: {}\n\tPos: {}\n", setup->args[4], setup->args[5])) !=
                std::string::npos,
            true)
      << "the call carries the dump's coordinates:\n"
      << printed->out << *metadata;

  // The printed parameters as CHANGE MASTER TO, @ca through a file.
  ASSERT_TRUE(write_file(dir.file("printed-ca.pem"), setup->ca));
  ASSERT_TRUE((*replica)->execute(fmt::format(
      "CHANGE MASTER TO MASTER_HOST={}, MASTER_USER={}, MASTER_PASSWORD={}, MASTER_PORT={}, "
      "MASTER_LOG_FILE={}, "
      "MASTER_LOG_POS={}, MASTER_SSL=1, MASTER_SSL_CA={}, MASTER_SSL_VERIFY_SERVER_CERT=1, "
      "MASTER_CONNECT_RETRY=1; START SLAVE",
      sql_quote(setup->args[0]), sql_quote(setup->args[1]), sql_quote(setup->args[2]), setup->args[3],
      sql_quote(setup->args[4]), setup->args[5], sql_quote(dir.file("printed-ca.pem")))));

  const std::string source_position = single_value(**source, "SELECT @@gtid_binlog_pos");
  std::map<std::string, std::string> status;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    status = slave_status(**replica);
    if (status["Last_IO_Errno"] != "0" || status["Last_SQL_Errno"] != "0") break;
    if (single_value(**replica, "SELECT @@gtid_slave_pos") == source_position) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(single_value(**replica, "SELECT @@gtid_slave_pos"), source_position);
  EXPECT_EQ(status["Slave_IO_Running"], "Yes") << status["Last_IO_Error"];
  EXPECT_EQ(status["Slave_SQL_Running"], "Yes") << status["Last_SQL_Error"];
  EXPECT_EQ(status["Last_SQL_Errno"], "0") << status["Last_SQL_Error"];
  EXPECT_EQ(status["Master_SSL_Allowed"], "Yes");
  EXPECT_EQ(status["Master_SSL_Verify_Server_Cert"], "Yes");
  EXPECT_EQ(checksums(**replica), checksums(**source));
  EXPECT_FALSE(checksums(**source).empty());

  // By GTID, the same dump is refused: its GTID is MariaDB's.
  auto with_gtid = azure;
  with_gtid.push_back("--gtid");
  auto refused = run_command(with_gtid);
  ASSERT_TRUE(refused) << refused.error().message();
  EXPECT_EQ(refused->exit_status, 1);
  EXPECT_NE(refused->err.find("cannot take MariaDB GTIDs"), std::string::npos) << refused->err;
  EXPECT_EQ(refused->out, "");
}

}  // namespace
}  // namespace brelay::testing
