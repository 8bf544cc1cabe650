// The verdicts of `binlog-relay check` for sources that cannot run on our machines (MySQL 5.6, 5.7
// and 8.0), from facts as those servers report them, and the SHOW GRANTS reader on their forms.
#include <gtest/gtest.h>

#include "relay/checks/grants.h"
#include "relay/checks/local_checks.h"
#include "relay/checks/preflight.h"
#include "relay/checks/source_checks.h"

namespace brelay::relay {
namespace {

Config relay_config(bool gtid = false) {
  Config config;
  config.source.user = "repl";
  config.source.server_id = 4001;
  config.source.gtid = gtid;
  config.server.server_id = 4002;
  config.storage.retention_time = std::chrono::hours(24 * 7);
  return config;
}

// A MySQL 8.0 source set up as the Azure guide asks.
SourceFacts mysql80() {
  SourceFacts facts;
  facts.version = "8.0.36";
  facts.variables = {{"log_bin", "ON"},
                     {"binlog_format", "ROW"},
                     {"binlog_row_image", "FULL"},
                     {"server_id", "1"},
                     {"gtid_mode", "ON"},
                     {"enforce_gtid_consistency", "ON"},
                     {"binlog_expire_logs_seconds", "259200"},
                     {"expire_logs_days", "0"},
                     {"binlog_checksum", "CRC32"},
                     {"lower_case_table_names", "1"}};
  facts.grants = {"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl`@`%`"};
  facts.non_innodb_tables = std::vector<TableName>{};
  facts.tables_without_primary_key = std::vector<TableName>{};
  facts.tables_complete = true;
  return facts;
}

Checklist run(const SourceFacts& facts, const Config& config = relay_config()) {
  Checklist checklist;
  check_source(facts, config, checklist);
  return checklist;
}

Verdict verdict(const Checklist& checklist, std::string_view name) {
  const CheckResult* result = checklist.find(name);
  EXPECT_NE(result, nullptr) << name;
  return result != nullptr ? result->verdict : Verdict::kFail;
}

TEST(SourceChecks, AWellConfiguredMySql80SourcePassesEveryCheck) {
  const Checklist checklist = run(mysql80(), relay_config(true));
  for (const CheckResult& result : checklist.results())
    EXPECT_EQ(result.verdict, Verdict::kOk) << result.name << ": " << result.finding;
  EXPECT_FALSE(checklist.failed());
  EXPECT_NE(checklist.render().find("check: 12 OK, 0 WARN, 0 FAIL\n"), std::string::npos)
      << checklist.render();
}

TEST(SourceChecks, OldVersionsAndNoBinaryLogFail) {
  SourceFacts facts = mysql80();
  facts.version = "5.6.51-log";
  facts.variables["log_bin"] = "OFF";
  const Checklist checklist = run(facts);
  EXPECT_EQ(verdict(checklist, "version"), Verdict::kFail);
  EXPECT_EQ(verdict(checklist, "log_bin"), Verdict::kFail);
  facts.version = "5.7.44-log";
  EXPECT_EQ(verdict(run(facts), "version"), Verdict::kOk);
}

TEST(SourceChecks, GtidPositioningNeedsGtidModeAndConsistencyOnMySql) {
  SourceFacts facts = mysql80();
  facts.variables["gtid_mode"] = "OFF_PERMISSIVE";
  EXPECT_EQ(verdict(run(facts, relay_config(true)), "gtid"), Verdict::kFail);
  EXPECT_EQ(verdict(run(facts, relay_config(false)), "gtid"), Verdict::kOk);
  facts = mysql80();
  facts.variables["enforce_gtid_consistency"] = "WARN";
  const Checklist checklist = run(facts, relay_config(true));
  EXPECT_EQ(verdict(checklist, "gtid"), Verdict::kFail);
  EXPECT_NE(checklist.find("gtid")->advice.find("enforce_gtid_consistency = ON"), std::string::npos);
}

TEST(SourceChecks, ServerIdMustBeSetAndDifferFromTheRelays) {
  SourceFacts facts = mysql80();
  facts.variables["server_id"] = "0";
  EXPECT_EQ(verdict(run(facts), "server_id"), Verdict::kFail);
  facts.variables["server_id"] = "4001";
  EXPECT_EQ(verdict(run(facts), "server_id"), Verdict::kFail);
  facts.variables["server_id"] = "4002";
  EXPECT_EQ(verdict(run(facts), "server_id"), Verdict::kWarn);
}

TEST(SourceChecks, SuperCountsAsReplicationClientOnMySqlOnly) {
  SourceFacts facts = mysql80();
  facts.grants = {"GRANT SUPER, REPLICATION SLAVE ON *.* TO `repl`@`%`"};
  EXPECT_EQ(verdict(run(facts), "privileges"), Verdict::kOk);
  facts.grants = {"GRANT USAGE ON *.* TO `repl`@`%`", "GRANT `replication_role`@`%` TO `repl`@`%`"};
  const Checklist checklist = run(facts);
  EXPECT_EQ(verdict(checklist, "privileges"), Verdict::kFail);
  EXPECT_NE(
      checklist.find("privileges")->finding.find("roles granted, not inspected: `replication_role`@`%`"),
      std::string::npos)
      << checklist.find("privileges")->finding;
  facts.grants = {"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"};
  EXPECT_EQ(verdict(run(facts), "privileges"), Verdict::kOk);
}

TEST(SourceChecks, SchemaForwardingNeedsSelectOnTheSource) {
  SourceFacts facts = mysql80();
  Config config = relay_config();
  EXPECT_EQ(run(facts, config).find("schema forwarding"), nullptr) << "no account with schema = true";
  UserConfig reader;
  reader.name = "cdc";
  reader.schema = true;
  config.users.push_back(reader);
  const Checklist without = run(facts, config);
  EXPECT_EQ(verdict(without, "schema forwarding"), Verdict::kFail);
  EXPECT_NE(without.find("schema forwarding")->advice.find("GRANT SELECT"), std::string::npos);
  facts.grants.push_back("GRANT SELECT ON `shop`.* TO `repl`@`%`");
  EXPECT_EQ(verdict(run(facts, config), "schema forwarding"), Verdict::kWarn);
  facts.grants = {"GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl`@`%`"};
  EXPECT_EQ(verdict(run(facts, config), "schema forwarding"), Verdict::kOk);
}

TEST(SourceChecks, TablesAreNamedAndLongListsCounted) {
  SourceFacts facts = mysql80();
  std::vector<TableName> keyless;
  for (int i = 0; i < 25; ++i)
    keyless.push_back({"app", "t" + std::to_string(i), "InnoDB"});
  facts.tables_without_primary_key = keyless;
  facts.non_innodb_tables = std::vector<TableName>{{"app", "cache", "MEMORY"}, {"app", "old", "MyISAM"}};
  const Checklist checklist = run(facts);
  EXPECT_EQ(verdict(checklist, "storage engines"), Verdict::kFail);
  EXPECT_NE(checklist.find("storage engines")->finding.find("`app`.`cache` (MEMORY), `app`.`old` (MyISAM)"),
            std::string::npos);
  EXPECT_EQ(verdict(checklist, "primary keys"), Verdict::kWarn);
  const std::string& finding = checklist.find("primary keys")->finding;
  EXPECT_NE(finding.find("25 table(s)"), std::string::npos) << finding;
  EXPECT_NE(finding.find("`app`.`t19` and 5 more"), std::string::npos) << finding;

  facts = mysql80();
  facts.non_innodb_tables.reset();
  facts.tables_without_primary_key.reset();
  facts.tables_problem = "SELECT command denied";
  EXPECT_EQ(verdict(run(facts), "primary keys"), Verdict::kWarn);
}

TEST(SourceChecks, BinlogExpiryAgainstRetention) {
  SourceFacts facts = mysql80();
  EXPECT_EQ(source_binlog_expiry_seconds(facts), 259200);
  EXPECT_EQ(verdict(run(facts), "binlog expiry"), Verdict::kOk);
  facts.variables["binlog_expire_logs_seconds"] = "2592000";
  // 30 days at the source, 7 at the relay: the relay adds no buffer.
  EXPECT_EQ(verdict(run(facts), "binlog expiry"), Verdict::kWarn);
  Config keeps_longer = relay_config();
  keeps_longer.storage.retention_time = std::chrono::hours(24 * 60);
  EXPECT_EQ(verdict(run(facts, keeps_longer), "binlog expiry"), Verdict::kOk);
  Config keeps_forever = relay_config();
  keeps_forever.storage.retention_time = Duration(0);
  EXPECT_EQ(verdict(run(facts, keeps_forever), "binlog expiry"), Verdict::kOk);
  // MySQL 5.7: expire_logs_days only.
  facts.variables.erase("binlog_expire_logs_seconds");
  facts.variables["expire_logs_days"] = "0.25";
  EXPECT_EQ(source_binlog_expiry_seconds(facts), 21600);
  EXPECT_EQ(verdict(run(facts), "binlog expiry"), Verdict::kWarn);
  facts.variables["expire_logs_days"] = "0";
  EXPECT_EQ(source_binlog_expiry_seconds(facts), 0);
  EXPECT_EQ(verdict(run(facts), "binlog expiry"), Verdict::kOk);
}

TEST(SourceChecks, ChecksumsCaseOfNamesFormatsAndSemiSync) {
  SourceFacts facts = mysql80();
  facts.variables["binlog_checksum"] = "NONE";
  facts.variables["lower_case_table_names"] = "0";
  facts.variables["binlog_format"] = "MIXED";
  facts.variables["binlog_row_image"] = "MINIMAL";
  Config semi = relay_config();
  semi.source.semi_sync = true;
  const Checklist checklist = run(facts, semi);
  EXPECT_EQ(verdict(checklist, "binlog_checksum"), Verdict::kWarn);
  EXPECT_EQ(verdict(checklist, "lower_case_table_names"), Verdict::kWarn);
  EXPECT_EQ(verdict(checklist, "binlog_format"), Verdict::kWarn);
  EXPECT_EQ(verdict(checklist, "binlog_row_image"), Verdict::kWarn);
  EXPECT_EQ(verdict(checklist, "semi_sync"), Verdict::kWarn);
  EXPECT_FALSE(checklist.failed());
  facts.variables["rpl_semi_sync_source_enabled"] = "ON";
  EXPECT_EQ(verdict(run(facts, semi), "semi_sync"), Verdict::kOk);
}

TEST(Grants, ReadsTheFormsMySqlAndMariaDbPrint) {
  const GlobalPrivileges mariadb = parse_global_privileges({
      "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`%` IDENTIFIED BY PASSWORD '*ABC'",
      "GRANT SELECT, INSERT ON `shop`.* TO `repl`@`%`",
  });
  EXPECT_TRUE(mariadb.has("REPLICATION SLAVE"));
  EXPECT_TRUE(mariadb.has("BINLOG MONITOR"));
  EXPECT_FALSE(mariadb.has("SELECT")) << "a database-level grant is not global";
  EXPECT_FALSE(mariadb.all);

  const GlobalPrivileges mysql = parse_global_privileges({
      "GRANT SELECT, RELOAD, REPLICATION CLIENT ON *.* TO `u`@`%`",
      "GRANT BACKUP_ADMIN,BINLOG_ADMIN ON *.* TO `u`@`%`",
      "GRANT `r1`@`%`,`r2`@`%` TO `u`@`%`",
  });
  EXPECT_TRUE(mysql.has("SELECT"));
  EXPECT_TRUE(mysql.has("REPLICATION CLIENT"));
  EXPECT_TRUE(mysql.has("BINLOG_ADMIN"));
  EXPECT_FALSE(mysql.has("REPLICATION SLAVE"));
  ASSERT_EQ(mysql.roles.size(), 1u);
  EXPECT_EQ(mysql.roles[0], "`r1`@`%`,`r2`@`%`");

  const GlobalPrivileges all = parse_global_privileges({"grant all privileges on *.* to 'root'@'localhost'"});
  EXPECT_TRUE(all.all);
  EXPECT_TRUE(all.has("REPLICATION SLAVE"));
  // A quoted user name that reads like a keyword does not confuse it.
  const GlobalPrivileges quoted = parse_global_privileges({"GRANT USAGE ON *.* TO `ON TO`@`%`"});
  EXPECT_TRUE(quoted.has("USAGE"));
}

TEST(LocalChecks, FormatsSizesAndDurations) {
  EXPECT_EQ(format_bytes(512), "512 bytes");
  EXPECT_EQ(format_bytes(std::uint64_t{3} << 30), "3.0 GiB");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_seconds(7 * 86400), "7d");
  EXPECT_EQ(format_seconds(3600), "1h");
  EXPECT_EQ(format_seconds(90), "90s");
  EXPECT_EQ(format_seconds(0), "0s");
}

TEST(LocalChecks, LoginLimitsAreReportedAndHostNamesResolved) {
  Config config;
  config.server.max_connections = 20;
  config.server.max_connect_errors = 7;
  UserConfig user;
  user.name = "repl";
  user.hosts = {"10.0.0.0/8", "localhost"};
  config.users.push_back(user);
  Checklist checklist;
  check_logins(config, checklist);
  const CheckResult* logins = checklist.find("logins");
  ASSERT_NE(logins, nullptr);
  EXPECT_EQ(logins->verdict, Verdict::kOk);
  EXPECT_NE(
      logins->finding.find("at most 20 sessions (+1 for an admin), 64 still logging in, each within 10s"),
      std::string::npos)
      << logins->finding;
  EXPECT_NE(logins->finding.find("after 7 failed logins"), std::string::npos);
  const CheckResult* hosts = checklist.find("user repl hosts");
  ASSERT_NE(hosts, nullptr);
  EXPECT_EQ(hosts->verdict, Verdict::kOk) << hosts->finding;
  EXPECT_EQ(checklist.results().size(), 2u);  // the CIDR range needs no check
}

}  // namespace
}  // namespace brelay::relay
