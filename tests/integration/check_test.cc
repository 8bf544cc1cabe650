// `binlog-relay check` against real MariaDB sources: a well-configured one passes; one writing
// STATEMENT binlogs with a MyISAM table and a table without a primary key gets each problem named
// and a non-zero exit; replication accounts with and without REPLICATION SLAVE / BINLOG MONITOR are
// told apart from SHOW GRANTS; the source's binlog expiry is weighed against the relay's retention;
// and the relay's own certificate (valid, expiring, expired, not matching its key) is checked, as
// are the configuration file's access (plain-text passwords others may read) and running as root.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/mariadb_server.h"
#include "tests/support/process.h"
#include "tests/support/relay_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace brelay::testing {
namespace {

struct CheckRun {
  int status = -1;
  std::string out;
  std::string err;
};

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("check");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }

  TestRelayConfig config_for(const MariaDbServer& source, std::string user = "root",
                             std::string password = "") {
    TestRelayConfig config;
    config.source_port = source.port();
    config.source_user = std::move(user);
    config.source_password = std::move(password);
    config.data_dir = dir_->file("data");
    config.storage_extra = "retention_size = \"64MiB\"\n";
    return config;
  }

  CheckRun check(const TestRelayConfig& config, std::vector<std::string> extra = {}) {
    const std::string path = dir_->file("relay.toml");
    EXPECT_TRUE(write_file(path, config.to_toml()));
    std::vector<std::string> argv = {binlog_relay_path(), "check", "--config", path};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto output = run_command(argv, {}, std::chrono::seconds(60));
    EXPECT_TRUE(output) << output.error().message();
    if (!output) return {};
    return {output->exit_status, output->out, output->err};
  }

  // The line of the named check ("OK    binlog_format: ROW"), or "" when absent.
  static std::string line_of(const std::string& out, const std::string& name) {
    std::size_t start = 0;
    while (start < out.size()) {
      std::size_t end = out.find('\n', start);
      if (end == std::string::npos) end = out.size();
      const std::string line = out.substr(start, end - start);
      if (line.size() > 6 && line.compare(6, name.size() + 1, name + ":") == 0) return line;
      start = end + 1;
    }
    return "";
  }

  static void execute(MariaDbServer& server, const std::string& sql) {
    auto done = server.execute(sql);
    ASSERT_TRUE(done) << done.error().message();
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(CheckTest, AWellConfiguredMariaDbSourcePasses) {
  auto source = MariaDbServer::start({.server_id = 21});
  ASSERT_TRUE(source) << source.error().message();
  execute(
      **source,
      "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(20)) ENGINE=InnoDB;");
  const CheckRun run = check(config_for(**source));
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  for (const char* name :
       {"config", "version", "log_bin", "binlog_format", "binlog_row_image", "server_id", "gtid",
        "privileges", "storage engines", "primary keys", "binlog expiry", "binlog_checksum"}) {
    EXPECT_EQ(line_of(run.out, name).rfind("OK    ", 0), 0u) << name << "\n" << run.out;
  }
  EXPECT_NE(line_of(run.out, "binlog_format").find("ROW"), std::string::npos);
  EXPECT_NE(line_of(run.out, "version").find("MariaDB"), std::string::npos);
  EXPECT_NE(run.out.find("0 FAIL"), std::string::npos) << run.out;
}

TEST_F(CheckTest, AStatementSourceWithMyIsamAndKeylessTablesNamesEachProblemAndFails) {
  auto source = MariaDbServer::start({.server_id = 22, .binlog_format = "STATEMENT"});
  ASSERT_TRUE(source) << source.error().message();
  execute(**source,
          "CREATE DATABASE legacy; "
          "CREATE TABLE legacy.audit (id INT PRIMARY KEY, note TEXT) ENGINE=MyISAM; "
          "CREATE TABLE legacy.events_log (happened DATETIME, what TEXT) ENGINE=InnoDB; "
          "CREATE TABLE legacy.fine (id INT PRIMARY KEY) ENGINE=InnoDB;");
  const CheckRun run = check(config_for(**source));
  EXPECT_EQ(run.status, 1) << run.out << run.err;
  const std::string format = line_of(run.out, "binlog_format");
  EXPECT_EQ(format.rfind("WARN  binlog_format: STATEMENT", 0), 0u) << run.out;
  const std::string engines = line_of(run.out, "storage engines");
  EXPECT_EQ(engines.rfind("FAIL ", 0), 0u) << run.out;
  EXPECT_NE(engines.find("`legacy`.`audit` (MyISAM)"), std::string::npos) << engines;
  EXPECT_EQ(engines.find("events_log"), std::string::npos) << engines;
  const std::string keys = line_of(run.out, "primary keys");
  EXPECT_EQ(keys.rfind("WARN ", 0), 0u) << run.out;
  EXPECT_NE(keys.find("`legacy`.`events_log`"), std::string::npos) << keys;
  EXPECT_EQ(keys.find("`legacy`.`fine`"), std::string::npos) << keys;
  EXPECT_EQ(keys.find("`legacy`.`audit`"), std::string::npos) << keys;
  EXPECT_NE(run.out.find("Generated Invisible Primary Key"), std::string::npos);
  EXPECT_NE(run.out.find("-> SET GLOBAL binlog_format = 'ROW'"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("-> ALTER TABLE ... ENGINE = InnoDB"), std::string::npos) << run.out;
}

TEST_F(CheckTest, AccountPrivilegesComeFromShowGrants) {
  auto source = MariaDbServer::start({.server_id = 23});
  ASSERT_TRUE(source) << source.error().message();
  execute(
      **source,
      "CREATE USER 'nothing'@'%' IDENTIFIED BY 'pw1'; "
      "CREATE USER 'slaveonly'@'%' IDENTIFIED BY 'pw2'; GRANT REPLICATION SLAVE ON *.* TO 'slaveonly'@'%'; "
      "CREATE USER 'monitoronly'@'%' IDENTIFIED BY 'pw3'; GRANT BINLOG MONITOR ON *.* TO 'monitoronly'@'%'; "
      "CREATE USER 'repl'@'%' IDENTIFIED BY 'pw4'; "
      "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl'@'%'; "
      "CREATE USER 'reader'@'%' IDENTIFIED BY 'pw5'; GRANT SELECT ON *.* TO 'reader'@'%'; "
      "CREATE DATABASE shop; CREATE TABLE shop.t (a INT) ENGINE=InnoDB;");

  CheckRun run = check(config_for(**source, "nothing", "pw1"));
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(line_of(run.out, "privileges")
                .rfind("FAIL  privileges: nothing lacks REPLICATION SLAVE and BINLOG MONITOR", 0),
            0u)
      << run.out;

  run = check(config_for(**source, "slaveonly", "pw2"));
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(line_of(run.out, "privileges").rfind("FAIL  privileges: slaveonly lacks BINLOG MONITOR on", 0),
            0u)
      << run.out;
  EXPECT_NE(run.out.find("-> GRANT BINLOG MONITOR ON *.* TO 'slaveonly'@'%'"), std::string::npos) << run.out;

  run = check(config_for(**source, "monitoronly", "pw3"));
  EXPECT_EQ(
      line_of(run.out, "privileges").rfind("FAIL  privileges: monitoronly lacks REPLICATION SLAVE on", 0), 0u)
      << run.out;

  // MariaDB 10.11 shows REPLICATION CLIENT as BINLOG MONITOR; both are understood.
  run = check(config_for(**source, "repl", "pw4"));
  EXPECT_EQ(run.status, 0) << run.out;
  EXPECT_EQ(line_of(run.out, "privileges")
                .rfind("OK    privileges: repl has REPLICATION SLAVE and BINLOG MONITOR", 0),
            0u)
      << run.out;
  // The replication account cannot see the table without a primary key: said, not hidden.
  EXPECT_EQ(line_of(run.out, "primary keys")
                .rfind("WARN  primary keys: no table without a primary key among those", 0),
            0u)
      << run.out;

  const std::string reader_password = dir_->file("reader.pass");
  ASSERT_TRUE(write_file(reader_password, "pw5\n"));
  run = check(config_for(**source, "repl", "pw4"),
              {"--inspect-user", "reader", "--inspect-password-file", reader_password});
  EXPECT_EQ(run.status, 0) << run.out;
  EXPECT_NE(line_of(run.out, "primary keys").find("`shop`.`t`"), std::string::npos) << run.out;
}

TEST_F(CheckTest, SourceBinlogExpiryIsWeighedAgainstTheRelaysRetention) {
  auto source = MariaDbServer::start({.server_id = 24});
  ASSERT_TRUE(source) << source.error().message();
  execute(**source, "SET GLOBAL binlog_expire_logs_seconds = 3600");
  CheckRun run = check(config_for(**source));
  EXPECT_EQ(
      line_of(run.out, "binlog expiry").rfind("WARN  binlog expiry: the source purges binlogs after 1h", 0),
      0u)
      << run.out;

  execute(**source, "SET GLOBAL binlog_expire_logs_seconds = 1209600");  // 14 days
  TestRelayConfig config = config_for(**source);
  config.storage_extra += "retention_time = \"7d\"\n";
  run = check(config);
  EXPECT_EQ(line_of(run.out, "binlog expiry")
                .rfind("WARN  binlog expiry: the source keeps binlogs 14d, longer than the relay (7d)", 0),
            0u)
      << run.out;

  config = config_for(**source);
  config.storage_extra += "retention_time = \"30d\"\n";
  run = check(config);
  EXPECT_EQ(line_of(run.out, "binlog expiry").rfind("OK    binlog expiry: the source keeps binlogs 14d", 0),
            0u)
      << run.out;
}

TEST_F(CheckTest, AnUnreachableSourceFailsWithWhatToDo) {
  TestRelayConfig config;
  config.source_port = free_loopback_port().value_or(1);
  config.data_dir = dir_->file("data");
  const CheckRun run = check(config);
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(line_of(run.out, "source").rfind("FAIL  source: cannot log in to 127.0.0.1:", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("-> check [source] host, port"), std::string::npos) << run.out;
}

TEST_F(CheckTest, EveryServerOfSourceHostsIsChecked) {
  auto source = MariaDbServer::start({.server_id = 25});
  ASSERT_TRUE(source) << source.error().message();
  const std::uint16_t unreachable = free_loopback_port().value_or(1);
  std::string toml = config_for(**source).to_toml();
  const std::string single = fmt::format("host = \"127.0.0.1\"\nport = {}\n", (*source)->port());
  const auto at = toml.find(single);
  ASSERT_NE(at, std::string::npos) << toml;
  toml.replace(at, single.size(),
               fmt::format("hosts = [\"127.0.0.1:{}\", \"127.0.0.1:{}\"]\ngtid = true\n", (*source)->port(),
                           unreachable));
  const std::string path = dir_->file("relay.toml");
  ASSERT_TRUE(write_file(path, toml));
  auto output = run_command({binlog_relay_path(), "check", "--config", path}, {}, std::chrono::seconds(60));
  ASSERT_TRUE(output) << output.error().message();
  EXPECT_EQ(output->exit_status, 1) << output->out;
  EXPECT_NE(output->out.find(fmt::format("source: connected to 127.0.0.1:{} as root", (*source)->port())),
            std::string::npos)
      << output->out;
  EXPECT_NE(output->out.find(fmt::format("FAIL  source: cannot log in to 127.0.0.1:{}", unreachable)),
            std::string::npos)
      << output->out;
}

TEST_F(CheckTest, AConfigurationErrorExitsWith2NamingTheLineAndKey) {
  TestRelayConfig config;
  config.data_dir = dir_->file("data");
  config.source_extra = "heartbeat_period = \"soon\"\n";
  const CheckRun run = check(config);
  EXPECT_EQ(run.status, 2);
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_NE(run.err.find(dir_->file("relay.toml") + ":7: [source] heartbeat_period:"), std::string::npos)
      << run.err;
}

TEST_F(CheckTest, TheRelaysCertificateIsValidatedWithoutASource) {
  auto certs = generate_test_certificates(dir_->path());
  ASSERT_TRUE(certs) << certs.error().message();
  auto year = issue_certificate(*certs, dir_->path(), "relay-year", "DNS:localhost", 365);
  auto soon = issue_certificate(*certs, dir_->path(), "relay-soon", "DNS:localhost", 10);
  auto expired = issue_certificate(*certs, dir_->path(), "relay-expired", "DNS:localhost", -1);
  ASSERT_TRUE(year && soon && expired);

  auto run_with = [&](const std::string& cert, const std::string& key) {
    TestRelayConfig config;
    config.data_dir = dir_->file("data");
    config.storage_extra = "retention_size = \"64MiB\"\n";
    config.server_extra = fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"\n", cert, key);
    return check(config, {"--config-only"});
  };
  CheckRun run = run_with(year->first, year->second);
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_EQ(line_of(run.out, "certificate").rfind("OK    certificate:", 0), 0u) << run.out;
  EXPECT_NE(line_of(run.out, "certificate").find("CN=relay-year"), std::string::npos) << run.out;
  EXPECT_TRUE(line_of(run.out, "source").empty()) << "--config-only must not connect\n" << run.out;

  run = run_with(soon->first, soon->second);
  EXPECT_EQ(run.status, 0);
  EXPECT_NE(line_of(run.out, "certificate").find("expires in "), std::string::npos) << run.out;
  EXPECT_EQ(line_of(run.out, "certificate").rfind("WARN ", 0), 0u) << run.out;

  run = run_with(expired->first, expired->second);
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(line_of(run.out, "certificate").find("expired"), std::string::npos) << run.out;

  run = run_with(year->first, soon->second);
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(line_of(run.out, "certificate").find("is not its private key"), std::string::npos) << run.out;

  const std::string line = line_of(run.out, "free disk");
  EXPECT_EQ(line.rfind("OK    free disk:", 0), 0u) << run.out;
}

TEST_F(CheckTest, AConfigOthersMayReadWithPlainPasswordsFailsAndRootIsReported) {
  TestRelayConfig config;
  config.data_dir = dir_->file("data");
  config.storage_extra = "retention_size = \"64MiB\"\n";
  const std::string path = dir_->file("relay.toml");
  ASSERT_TRUE(write_file(path, config.to_toml()));
  auto check_file = [&] {
    auto output = run_command({binlog_relay_path(), "check", "--config", path, "--config-only"}, {},
                              std::chrono::seconds(60));
    EXPECT_TRUE(output) << output.error().message();
    return output ? CheckRun{output->exit_status, output->out, output->err} : CheckRun{};
  };

  CheckRun run = check_file();  // written 0600
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_EQ(line_of(run.out, "config access").rfind("OK    config access:", 0), 0u) << run.out;

  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  run = check_file();
  EXPECT_EQ(run.status, 1) << run.out;
  const std::string line = line_of(run.out, "config access");
  EXPECT_EQ(line.rfind("FAIL  config access:", 0), 0u) << run.out;
  EXPECT_NE(line.find("[source] password"), std::string::npos) << line;
  EXPECT_NE(line.find("readable by every user of this host (mode 0644"), std::string::npos) << line;
  EXPECT_NE(run.out.find("chmod 600 " + path), std::string::npos) << run.out;

  // Group-readable is accepted when root owns the file (0640 root:binlog-relay, as packaged).
  if (::geteuid() == 0) {
    ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
    run = check_file();
    EXPECT_EQ(line_of(run.out, "config access").rfind("OK    config access:", 0), 0u) << run.out;
    EXPECT_EQ(line_of(run.out, "process user").rfind("WARN  process user: running as root", 0), 0u)
        << run.out;
  } else {
    EXPECT_EQ(line_of(run.out, "process user").rfind("OK    process user:", 0), 0u) << run.out;
  }
}

}  // namespace
}  // namespace brelay::testing
