// The schema forwarder against a real MariaDB source (security review findings 1, 2, 3, 7): the
// forwarding session is utf8mb4 (read back) with a server-side statement time limit that the
// source enforces itself, a relay-side timeout kills the query on the source through a second
// connection (KILL QUERY), and results are bounded by rows and by the memory they hold (many tiny
// rows), after which the forwarder goes on answering.
#include <gtest/gtest.h>

#include <optional>

#include "net/timer.h"
#include "relay/downstream/schema_forwarder.h"
#include "tests/support/mariadb_server.h"

namespace brelay::relay::downstream {
namespace {

using testing::MariaDbServer;
using Answer = std::optional<Result<net::QueryResult>>;

class SchemaForwarderMariaDb : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = MariaDbServer::start(testing::MariaDbOptions());
    ASSERT_TRUE(server) << server.error().message();
    server_ = server->release();
    ASSERT_TRUE(
        server_->execute("CREATE USER 'relay'@'%' IDENTIFIED BY 'relay-pass';"
                         "GRANT ALL PRIVILEGES ON *.* TO 'relay'@'%';"));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    source_.host = "127.0.0.1";
    source_.port = server_->port();
    source_.user = "relay";
    source_.password = "relay-pass";
    source_.tls = net::TlsMode::kDisabled;
  }

  Answer run(SchemaForwarder& forwarder, const std::string& sql) {
    Answer answer;
    forwarder.forward("cdc", sql, [&](Result<net::QueryResult> result) {
      answer = std::move(result);
      loop_.stop();
    });
    // A stop() left over from a run that ended for lack of work ends a run at once: run again.
    // The forwarder always answers (its timers bound every exchange).
    while (!answer)
      EXPECT_TRUE(loop_.run());
    return answer;
  }

  // Runs the loop until `done` holds (checked every 100 ms) or `timeout` passed; whether it held.
  bool run_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
    net::Timer timer(loop_.raw());
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool held = false;
    std::function<void()> check = [&] {
      held = done();
      if (held || std::chrono::steady_clock::now() > deadline) {
        loop_.stop();
        return;
      }
      timer.start(std::chrono::milliseconds(100), check);
    };
    timer.start(std::chrono::milliseconds(0), check);
    EXPECT_TRUE(loop_.run());
    timer.stop();
    return held;
  }

  static inline MariaDbServer* server_ = nullptr;
  net::EventLoop loop_;
  SourceConfig source_;
};

TEST_F(SchemaForwarderMariaDb, TheSessionIsUtf8mb4WithAStatementTimeLimit) {
  SchemaForwarder forwarder(loop_, source_);
  Answer answer =
      run(forwarder,
          "SELECT @@character_set_client, @@character_set_connection, @@max_statement_time, @@sql_mode");
  ASSERT_TRUE(answer && *answer) << (answer ? answer->error().message() : "no answer");
  const auto& rows = (*answer)->result_set.rows;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].value_or("NULL"), "utf8mb4");
  EXPECT_EQ(rows[0][1].value_or("NULL"), "utf8mb4");
  EXPECT_DOUBLE_EQ(std::stod(rows[0][2].value_or("0")), 30.0);
  EXPECT_EQ(rows[0][3].value_or("NULL"), "");
}

TEST_F(SchemaForwarderMariaDb, TheSourceStopsALongStatementItself) {
  SchemaForwarder::Limits limits;
  limits.query_timeout = std::chrono::seconds(60);
  limits.statement_time = std::chrono::seconds(1);
  SchemaForwarder forwarder(loop_, source_, limits);
  Answer answer = run(forwarder, "SELECT SLEEP(20) FROM information_schema.SCHEMATA LIMIT 1");
  ASSERT_TRUE(answer);
  ASSERT_FALSE(*answer) << "the statement ran past max_statement_time";
  EXPECT_EQ(answer->error().code(), 1969) << answer->error().message();  // ER_STATEMENT_TIMEOUT
  EXPECT_EQ(answer->error().message().find("max_statement_time"), std::string::npos)
      << "the source's text stays in the log: " << answer->error().message();
}

TEST_F(SchemaForwarderMariaDb, ARelaySideTimeoutKillsTheQueryOnTheSource) {
  SchemaForwarder::Limits limits;
  limits.query_timeout = std::chrono::seconds(1);
  limits.statement_time = std::chrono::milliseconds(0);
  SchemaForwarder forwarder(loop_, source_, limits);
  auto kills = [] {
    auto rows = server_->query("SHOW GLOBAL STATUS LIKE 'Com_kill'");
    return rows && !rows->empty() ? std::stoi((*rows)[0][1]) : -1;
  };
  const int kills_before = kills();
  Answer answer = run(forwarder, "SELECT SLEEP(120) AS relay_kill_probe");
  ASSERT_TRUE(answer);
  ASSERT_FALSE(*answer);
  EXPECT_EQ(answer->error().code(), 1429) << answer->error().message();
  EXPECT_EQ(answer->error().message().find(std::to_string(server_->port())), std::string::npos)
      << answer->error().message();
  auto still_running = [] {
    auto rows = server_->query(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%relay_kill_probe%' AND INFO "
        "NOT "
        "LIKE '%PROCESSLIST%'");
    return !rows || rows->empty() || (*rows)[0][0] != "0";
  };
  EXPECT_TRUE(run_until([&] { return !still_running(); }, std::chrono::seconds(20)))
      << "the source still runs the query the relay gave up on";
  // Killed by the relay, not left to the source noticing the closed connection some time later.
  EXPECT_EQ(kills(), kills_before + 1);
  // The forwarder goes on with a new connection.
  Answer next = run(forwarder, "SELECT 1");
  EXPECT_TRUE(next && *next);
}

TEST_F(SchemaForwarderMariaDb, ResultsAreBoundedByRowsAndByTheMemoryTheyHold) {
  const std::string many = "SELECT 1 FROM information_schema.COLUMNS a, information_schema.COLUMNS b LIMIT ";
  {
    SchemaForwarder::Limits limits;
    limits.max_result_rows = 1000;
    SchemaForwarder forwarder(loop_, source_, limits);
    Answer fits = run(forwarder, many + "1000");
    ASSERT_TRUE(fits && *fits) << (fits ? fits->error().message() : "no answer");
    EXPECT_EQ((*fits)->result_set.rows.size(), 1000u);
    Answer over = run(forwarder, many + "1001");
    ASSERT_TRUE(over);
    ASSERT_FALSE(*over);
    EXPECT_EQ(over->error().code(), 1429);
    EXPECT_NE(over->error().message().find("larger than"), std::string::npos) << over->error().message();
    Answer next = run(forwarder, "SELECT 1");
    ASSERT_TRUE(next);
    EXPECT_TRUE(*next) << next->error().message();
  }
  // 20000 one-byte rows: ~100 KB on the wire, far more in memory.
  SchemaForwarder::Limits limits;
  limits.max_result_memory = 1024 * 1024;
  SchemaForwarder forwarder(loop_, source_, limits);
  Answer over = run(forwarder, many + "20000");
  ASSERT_TRUE(over);
  ASSERT_FALSE(*over) << "20000 rows held in memory under a 1 MiB bound";
  EXPECT_EQ(over->error().code(), 1429);
  Answer fits = run(forwarder, many + "2000");
  EXPECT_TRUE(fits && *fits);
}

}  // namespace
}  // namespace brelay::relay::downstream
