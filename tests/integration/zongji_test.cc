// CDC readers pointed at the relay alone: the npm @vlasky/zongji reader (mysql2 underneath) reads a
// MariaDB source's history (sysbench prepare, DDL, row changes of many column types) once from the
// source and once from the relay, by file/position and by GTID, and must decode the same event
// sequence (types, positions, tables, row values). zongji learns each table's columns with a
// prepared SELECT ... FROM information_schema.COLUMNS on its control connection, which the relay
// forwards to the source for an account with `schema = true`. The real `mariadb` client checks
// the text path: the schema statements a reader asks answer as the source answers, everything
// else is refused, accounts without the flag are refused, and with the source down the reader
// hears that it is unreachable while its binlog stream goes on. tests/node/ holds the script;
// scripts/test installs its dependencies with `npm ci --prefix tests/node`.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "tests/support/mariadb_server.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/relay_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

constexpr const char* kHistory = R"sql(
CREATE TABLE sbtest.cdc (id INT PRIMARY KEY, name VARCHAR(32), amount DECIMAL(10,2), at DATETIME(3),
  note TEXT, flag TINYINT UNSIGNED, big BIGINT, ratio DOUBLE, day DATE, blob_value VARBINARY(8));
ALTER TABLE sbtest.cdc ADD COLUMN extra VARCHAR(16) DEFAULT 'x' AFTER name;
ALTER TABLE sbtest.sbtest1 ADD INDEX k_c (c(10));
INSERT INTO sbtest.cdc VALUES
  (1, 'one', 'e', 1.50, '2024-01-02 03:04:05.678', 'text with ''quotes''', 255, -9000000000, 1.25,
   '2024-02-29', 0x00ff10),
  (2, NULL, 'f', -3.00, NULL, '', 0, 0, 0, NULL, NULL);
UPDATE sbtest.cdc SET name = 'uno', amount = amount + 1 WHERE id = 1;
DELETE FROM sbtest.cdc WHERE id = 2;
UPDATE sbtest.sbtest1 SET k = k + 1 WHERE id <= 3;
DELETE FROM sbtest.sbtest1 WHERE id = 20;
CREATE TABLE sbtest.zongji_done (x INT);
)sql";

class ZongjiThroughTheRelay : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(std::filesystem::exists(node_dir() + "/node_modules/@vlasky/zongji"))
        << "zongji is not installed: run `npm ci --prefix tests/node` (scripts/test does)";
    MariaDbOptions options;
    options.server_id = 1;
    options.gtid_domain_id = 0;
    auto source = MariaDbServer::start(options);
    ASSERT_TRUE(source) << source.error().message();
    source_ = source->release();
    auto status = source_->query("SHOW MASTER STATUS");
    ASSERT_TRUE(status && !status->empty());
    start_ = (*status)[0][0] + ":" + (*status)[0][1];
    ASSERT_TRUE(source_->execute("CREATE DATABASE sbtest"));
    auto prepared = run_command(
        {"sysbench", "oltp_common", "--db-driver=mysql", "--mysql-socket=" + source_->socket_path(),
         "--mysql-user=root", "--mysql-db=sbtest", "--tables=1", "--table-size=20", "prepare"},
        {}, std::chrono::seconds(120));
    ASSERT_TRUE(prepared && prepared->exit_status == 0)
        << (prepared ? prepared->err : prepared.error().message());
    auto gtid = source_->query("SELECT @@gtid_binlog_pos");
    ASSERT_TRUE(gtid && !gtid->empty());
    gtid_after_prepare_ = (*gtid)[0][0];
    ASSERT_TRUE(source_->execute(kHistory));

    auto dir = TempDir::create("zongji");
    ASSERT_TRUE(dir) << dir.error().message();
    dir_ = new TempDir(std::move(*dir));
    TestRelayConfig config;
    config.data_dir = dir_->path() + "/relay-data";
    config.source_port = source_->port();
    config.source_extra = "heartbeat_period = \"500ms\"\nreconnect_max_delay = \"1s\"\n";
    config.users += "[[users]]\nname = \"cdc\"\npassword = \"cdcpw\"\nrole = \"replica\"\nschema = true\n";
    auto port = free_loopback_port();
    ASSERT_TRUE(port);
    relay_port_ = *port;
    config.listen = fmt::format("127.0.0.1:{}", relay_port_);
    auto relay = RelayProcess::start(config);
    ASSERT_TRUE(relay) << relay.error().message();
    relay_ = relay->release();
    const Rows source_status = *source_->query("SHOW MASTER STATUS");
    const bool caught_up = wait_until(
        [&] {
          auto rows = relay_sql("admin", "adminpw", "SHOW MASTER STATUS");
          return rows.size() == 1 && rows[0].size() >= 2 && rows[0][0] == source_status[0][0] &&
                 rows[0][1] == source_status[0][1];
        },
        std::chrono::seconds(60), std::chrono::milliseconds(100));
    ASSERT_TRUE(caught_up) << relay_->log();
  }

  static void TearDownTestSuite() {
    delete relay_;
    delete source_;
    delete dir_;
    relay_ = nullptr;
    source_ = nullptr;
    dir_ = nullptr;
  }

  // The real client against the relay: rows, or {"ERROR", code, message} on failure.
  static Rows relay_sql(const std::string& user, const std::string& password, const std::string& sql) {
    auto output = run_command({"mariadb", "--protocol=TCP", "-h127.0.0.1", "-P" + std::to_string(relay_port_),
                               "-u" + user, "-p" + password, "--batch", "--skip-column-names", "-e", sql},
                              {}, std::chrono::seconds(60));
    if (!output) return {{"ERROR", "run", output.error().message()}};
    if (output->exit_status != 0) return {{"ERROR", output->err}};
    return parse_batch_output(output->out);
  }

  static Rows source_sql(const std::string& sql) {
    auto rows = source_->query(sql);
    EXPECT_TRUE(rows) << sql << ": " << rows.error().message();
    return rows ? *rows : Rows{};
  }

  // zongji's decoded events as JSON lines, ending with "END".
  static std::vector<std::string> zongji(std::uint16_t port, const std::string& user,
                                         const std::string& password, const std::string& mode,
                                         const std::string& start) {
    auto output = run_command({"node", node_dir() + "/zongji_events.mjs", "127.0.0.1", std::to_string(port),
                               user, password, mode, start, "zongji_done"},
                              {}, std::chrono::seconds(90));
    EXPECT_TRUE(output) << output.error().message();
    if (!output) return {};
    std::vector<std::string> lines;
    std::string line;
    for (char c : output->out) {
      if (c != '\n') {
        line.push_back(c);
        continue;
      }
      lines.push_back(line);
      line.clear();
    }
    EXPECT_EQ(output->exit_status, 0) << output->out << output->err;
    EXPECT_FALSE(lines.empty() || lines.back() != "END") << output->out << output->err;
    return lines;
  }

  static std::size_t count_containing(const std::vector<std::string>& lines, const std::string& text) {
    return static_cast<std::size_t>(std::count_if(
        lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; }));
  }

  static inline MariaDbServer* source_ = nullptr;
  static inline RelayProcess* relay_ = nullptr;
  static inline TempDir* dir_ = nullptr;
  static inline std::uint16_t relay_port_ = 0;
  static inline std::string start_;
  static inline std::string gtid_after_prepare_;
};

TEST_F(ZongjiThroughTheRelay, ByFilePositionDecodesWhatItDecodesFromTheSource) {
  const auto from_source = zongji(source_->port(), "root", "", "position", start_);
  const auto from_relay = zongji(relay_port_, "cdc", "cdcpw", "position", start_);
  EXPECT_EQ(from_relay, from_source);
  EXPECT_GE(count_containing(from_source, "\"type\":\"WriteRows\""), 2u);
  EXPECT_GE(count_containing(from_source, "\"type\":\"UpdateRows\""), 2u);
  EXPECT_GE(count_containing(from_source, "\"type\":\"DeleteRows\""), 2u);
  EXPECT_EQ(count_containing(from_source, "ADD COLUMN extra"), 1u);
  EXPECT_EQ(count_containing(from_source, "text with 'quotes'"), 2u) << "the insert and the update, decoded";
}

TEST_F(ZongjiThroughTheRelay, ByGtidDecodesWhatItDecodesFromTheSource) {
  const auto from_source = zongji(source_->port(), "root", "", "gtid", gtid_after_prepare_);
  const auto from_relay = zongji(relay_port_, "cdc", "cdcpw", "gtid", gtid_after_prepare_);
  EXPECT_EQ(from_relay, from_source);
  EXPECT_EQ(count_containing(from_source, "CREATE TABLE `sbtest1`"), 0u) << "starts after sysbench prepare";
  EXPECT_EQ(count_containing(from_source, "ADD COLUMN extra"), 1u);
  EXPECT_GE(count_containing(from_source, "\"type\":\"MariadbGtid\""), 5u);
}

TEST_F(ZongjiThroughTheRelay, SchemaStatementsAnswerAsTheSourceAnswers) {
  for (const std::string sql :
       {"SHOW FULL COLUMNS FROM sbtest.cdc", "SHOW COLUMNS FROM cdc FROM sbtest LIKE 'n%'", "SHOW DATABASES",
        "SHOW FULL TABLES FROM sbtest", "SHOW CREATE TABLE sbtest.cdc", "SHOW INDEX FROM sbtest.sbtest1",
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
        "'sbtest' AND TABLE_NAME = 'cdc' ORDER BY ORDINAL_POSITION",
        "SELECT t.TABLE_NAME, COUNT(*) AS n FROM information_schema.TABLES t JOIN information_schema.COLUMNS "
        "c "
        "ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME WHERE t.TABLE_SCHEMA IN "
        "('sbtest') "
        "GROUP BY t.TABLE_NAME ORDER BY t.TABLE_NAME",
        "select index_name, column_name from information_schema.statistics where table_schema='sbtest' and "
        "table_name like 'sbtest%' order by index_name, seq_in_index"}) {
    EXPECT_EQ(relay_sql("cdc", "cdcpw", sql), source_sql(sql)) << sql;
  }
  // Answered by the relay itself, as before.
  EXPECT_EQ(relay_sql("cdc", "cdcpw", "SHOW MASTER STATUS"),
            relay_sql("admin", "adminpw", "SHOW MASTER STATUS"));
  EXPECT_EQ(relay_sql("cdc", "cdcpw", "SELECT @@binlog_row_image"), (Rows{{"FULL"}}));
}

TEST_F(ZongjiThroughTheRelay, EverythingElseIsRefused) {
  for (const std::string sql :
       {"SELECT * FROM sbtest.cdc", "SELECT user, password FROM mysql.user",
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS UNION SELECT user FROM mysql.user",
        "SELECT SLEEP(1) FROM information_schema.TABLES",
        "SELECT TABLE_NAME FROM information_schema.TABLES /*!99999 , mysql.user */",
        "SELECT TABLE_NAME FROM information_schema.TABLES INTO OUTFILE '/tmp/x'",
        "SELECT (SELECT 1) FROM information_schema.TABLES",
        "SELECT @@hostname FROM information_schema.TABLES",
        "SELECT TABLE_NAME FROM information_schema.TABLES; DROP DATABASE sbtest",
        "SELECT TABLE_NAME FROM information_schema.PROCESSLIST", "SHOW GRANTS FOR root@localhost",
        "DELETE FROM sbtest.cdc"}) {
    const Rows answer = relay_sql("cdc", "cdcpw", sql);
    ASSERT_FALSE(answer.empty()) << sql;
    EXPECT_EQ(answer[0][0], "ERROR") << sql;
  }
  const Rows refused = relay_sql("cdc", "cdcpw", "SELECT * FROM sbtest.cdc");
  EXPECT_NE(refused[0].back().find("1235"), std::string::npos) << refused[0].back();
  // An account without schema = true.
  const Rows denied = relay_sql("repl", "replpw", "SHOW DATABASES");
  ASSERT_FALSE(denied.empty());
  EXPECT_NE(denied[0].back().find("schema = true"), std::string::npos) << denied[0].back();
  const Rows unanswered = relay_sql("repl", "replpw", "SELECT * FROM sbtest.cdc");
  ASSERT_FALSE(unanswered.empty());
  EXPECT_NE(unanswered[0].back().find("1235"), std::string::npos) << "the parser's refusal stands";
  EXPECT_EQ(source_sql("SELECT COUNT(*) FROM sbtest.cdc"), (Rows{{"1"}}));
}

// mysql2's prepared statements (COM_STMT_PREPARE / EXECUTE / CLOSE, binary rows) answered by the
// relay itself and forwarded to the source read the same values as from the source.
TEST_F(ZongjiThroughTheRelay, PreparedStatementsReadWhatTheSourceAnswers) {
  auto run = [](std::uint16_t port, const std::string& user, const std::string& password,
                const std::string& mode) {
    auto output = run_command({"node", node_dir() + "/prepared_statements.js", "127.0.0.1",
                               std::to_string(port), user, password, mode},
                              {}, std::chrono::seconds(60));
    EXPECT_TRUE(output) << output.error().message();
    return output ? output->out + output->err : std::string();
  };
  const std::string from_source = run(source_->port(), "root", "", "compare");
  const std::string from_relay = run(relay_port_, "cdc", "cdcpw", "compare");
  EXPECT_EQ(from_relay, from_source);
  EXPECT_NE(from_source.find("\"NUMERIC_PRECISION\""), std::string::npos) << from_source;
  EXPECT_EQ(from_source.find("errno"), std::string::npos) << from_source;
  EXPECT_NE(from_relay.find("END"), std::string::npos) << from_relay;
  // At most SessionStatements::kMaxPrepared per session.
  EXPECT_EQ(run(relay_port_, "cdc", "cdcpw", "limit"), "LIMIT\t128\t1461\n");
}

// Last: stops the source.
TEST_F(ZongjiThroughTheRelay, WithTheSourceDownTheReaderHearsSoAndItsStreamGoesOn) {
  ASSERT_TRUE(source_->stop());
  const Rows answer = relay_sql("cdc", "cdcpw", "SHOW DATABASES");
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(answer[0][0], "ERROR");
  EXPECT_NE(answer[0].back().find("could not reach its source"), std::string::npos) << answer[0].back();
  EXPECT_NE(answer[0].back().find("1429"), std::string::npos) << answer[0].back();
  // The source's address stays in the relay's log (security review finding 8).
  EXPECT_EQ(answer[0].back().find(std::to_string(source_->port())), std::string::npos) << answer[0].back();
  EXPECT_NE(relay_->log().find(std::to_string(source_->port())), std::string::npos);
  const std::string first_file = start_.substr(0, start_.find(':'));
  auto binlog = run_command({"mariadb-binlog", "--read-from-remote-server", "--protocol=TCP",
                             "--host=127.0.0.1", "--port=" + std::to_string(relay_port_), "--user=cdc",
                             "--password=cdcpw", "--to-last-log", first_file},
                            {}, std::chrono::seconds(60));
  ASSERT_TRUE(binlog) << binlog.error().message();
  EXPECT_EQ(binlog->exit_status, 0) << binlog->err;
  EXPECT_NE(binlog->out.find("zongji_done"), std::string::npos);
}

}  // namespace
}  // namespace brelay::testing
