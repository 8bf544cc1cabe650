// A real MariaDB source with the binlog on: rows written through the real client show up in
// SHOW MASTER STATUS and SHOW BINARY LOGS, and the harness's options (GTID domain, semi-sync, TLS
// with the generated certificates, binlog format) take effect.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/mariadb_server.h"

namespace brelay::testing {
namespace {

std::uint64_t to_u64(const std::string& s) {
  return std::stoull(s);
}

TEST(MariaDbSource, BinlogCoordinatesMoveAsRowsAreWritten) {
  auto started = MariaDbServer::start({.server_id = 11});
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& source = **started;

  auto status = source.client({"-e", "SHOW MASTER STATUS"});
  ASSERT_TRUE(status) << status.error().message();
  ASSERT_EQ(status->exit_status, 0) << status->err;
  Rows before = parse_batch_output(status->out);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0][0], "mysql-bin.000001");
  const std::uint64_t position_before = to_u64(before[0][1]);

  auto written = source.client({}, R"(
      CREATE DATABASE shop;
      CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, item VARCHAR(64), qty INT) ENGINE=InnoDB;
      INSERT INTO shop.orders (item, qty) VALUES ('apple', 3), ('pear', 5), ('plum', 7);
      BEGIN; UPDATE shop.orders SET qty = qty + 1 WHERE item = 'pear'; COMMIT;)");
  ASSERT_TRUE(written) << written.error().message();
  ASSERT_EQ(written->exit_status, 0) << written->err;

  auto after = source.client({"-e", "SHOW MASTER STATUS"});
  ASSERT_TRUE(after);
  Rows after_rows = parse_batch_output(after->out);
  ASSERT_EQ(after_rows.size(), 1u);
  EXPECT_EQ(after_rows[0][0], "mysql-bin.000001");
  const std::uint64_t position_after = to_u64(after_rows[0][1]);
  EXPECT_GT(position_after, position_before);

  // SHOW BINARY LOGS agrees with SHOW MASTER STATUS and with the file on disk.
  auto logs = source.client({"-e", "SHOW BINARY LOGS"});
  ASSERT_TRUE(logs);
  Rows log_rows = parse_batch_output(logs->out);
  ASSERT_EQ(log_rows.size(), 1u);
  EXPECT_EQ(log_rows[0][0], "mysql-bin.000001");
  EXPECT_EQ(to_u64(log_rows[0][1]), position_after);
  EXPECT_EQ(std::filesystem::file_size(source.binlog_path("mysql-bin.000001")), position_after);

  ASSERT_TRUE(source.execute("FLUSH BINARY LOGS"));
  auto rotated = source.query("SHOW BINARY LOGS");
  ASSERT_TRUE(rotated);
  ASSERT_EQ(rotated->size(), 2u);
  EXPECT_EQ((*rotated)[1][0], "mysql-bin.000002");

  auto count = source.query("SELECT SUM(qty) FROM shop.orders");
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, (Rows{{"16"}}));
}

TEST(MariaDbSource, OptionsTakeEffect) {
  MariaDbOptions options;
  options.server_id = 21;
  options.binlog_format = "MIXED";
  options.gtid_domain_id = 7;
  options.gtid_strict_mode = true;
  options.semi_sync_master = true;
  options.max_binlog_size = 1 << 20;
  auto started = MariaDbServer::start(options);
  ASSERT_TRUE(started) << started.error().message();
  auto rows = (*started)->query(
      "SELECT @@server_id, @@binlog_format, @@gtid_domain_id, @@gtid_strict_mode, "
      "@@rpl_semi_sync_master_enabled, @@max_binlog_size, @@log_bin");
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_EQ(*rows, (Rows{{"21", "MIXED", "7", "1", "1", "1048576", "1"}}));
}

TEST(MariaDbSource, BinlogOffHasNoMasterStatus) {
  auto started = MariaDbServer::start({.log_bin = false});
  ASSERT_TRUE(started) << started.error().message();
  auto rows = (*started)->query("SELECT @@log_bin");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, (Rows{{"0"}}));
  auto status = (*started)->query("SHOW MASTER STATUS");
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->empty());
}

TEST(MariaDbSource, TlsWithGeneratedCertificatesVerifiesOnlyAgainstTheRightCa) {
  auto dir = TempDir::create("certs");
  ASSERT_TRUE(dir);
  auto certs = generate_test_certificates(dir->path());
  ASSERT_TRUE(certs) << certs.error().message();
  MariaDbOptions options;
  options.tls = *certs;
  auto started = MariaDbServer::start(options);
  ASSERT_TRUE(started) << started.error().message();
  MariaDbServer& server = **started;

  auto good = server.client({"--ssl", "--ssl-ca=" + certs->ca_cert, "--ssl-verify-server-cert", "-e",
                             "SHOW SESSION STATUS LIKE 'Ssl_version'"});
  ASSERT_TRUE(good);
  ASSERT_EQ(good->exit_status, 0) << good->err;
  Rows version = parse_batch_output(good->out);
  ASSERT_EQ(version.size(), 1u);
  EXPECT_TRUE(version[0][1].starts_with("TLSv1.")) << version[0][1];

  auto wrong_ca = server.client(
      {"--ssl", "--ssl-ca=" + certs->other_ca_cert, "--ssl-verify-server-cert", "-e", "SELECT 1"});
  ASSERT_TRUE(wrong_ca);
  EXPECT_NE(wrong_ca->exit_status, 0) << "a certificate from another CA must not verify";
}

}  // namespace
}  // namespace brelay::testing
