// The prepared statements of all sessions together are bounded (PreparedStatementBudget: MySQL's
// max_prepared_stmt_count, and bytes): beyond, ERR 1461 in any session, however many statements
// each session holds under its own cap; a closed statement or an ended session gives its share
// back. The limits are lowered for the test (the relay runs in this process).
#include <gtest/gtest.h>

#include <string>

#include "net/binary_protocol.h"
#include "relay/downstream/session_statements.h"
#include "tests/support/raw_mysql_client.h"
#include "tests/support/temp_dir.h"
#include "tests/support/threaded_relay.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using relay::downstream::PreparedStatementBudget;

class PreparedStatementBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("prepared-budget");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    ThreadedRelayOptions options;
    options.data_dir = dir_->file("data");
    auto relay = ThreadedRelay::start(options);
    ASSERT_TRUE(relay) << relay.error().message();
    relay_ = std::move(*relay);
  }
  void TearDown() override {
    relay_.reset();
    budget().set_limits(PreparedStatementBudget::kMaxCount, PreparedStatementBudget::kMaxBytes);
  }
  static PreparedStatementBudget& budget() { return PreparedStatementBudget::process(); }

  // The admin: the relay has never reached a source, and refuses replica accounts' logins until then.
  std::unique_ptr<RawMysqlClient> connect() {
    auto client = RawMysqlClient::connect(relay_->port(), "admin", "adminpw");
    EXPECT_TRUE(client) << client.error().message();
    return client ? std::move(*client) : nullptr;
  }
  // COM_STMT_PREPARE: the statement id, or the ERR code as a negative number.
  static long prepare(RawMysqlClient& client, const std::string& sql) {
    Bytes payload{net::command::kStmtPrepare};
    payload.insert(payload.end(), sql.begin(), sql.end());
    if (!client.send_command(payload)) return -1;
    auto first = client.read_packet();
    if (!first) return -2;
    if (is_err_packet(*first)) return -static_cast<long>(decode_raw_error(*first).code);
    const Bytes ok = *first;
    // Column and parameter definitions follow (none here: the relay sends them per execution).
    return static_cast<long>(ok[1] | ok[2] << 8 | ok[3] << 16 | static_cast<std::uint32_t>(ok[4]) << 24);
  }
  static void close_statement(RawMysqlClient& client, long id) {
    Bytes payload{net::command::kStmtClose, static_cast<std::uint8_t>(id), 0, 0, 0};
    ASSERT_TRUE(client.send_command(payload));
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ThreadedRelay> relay_;
};

TEST_F(PreparedStatementBudgetTest, StatementsOfAllSessionsTogetherAreBoundedByCountAndBytes) {
  budget().set_limits(4, PreparedStatementBudget::kMaxBytes);
  const std::size_t before = budget().count();
  auto a = connect();
  auto b = connect();
  ASSERT_TRUE(a && b);
  for (int i = 0; i < 3; ++i)
    EXPECT_GT(prepare(*a, "SELECT @@server_id"), 0) << i;
  const long last = prepare(*b, "SELECT @@server_id");
  EXPECT_GT(last, 0);
  EXPECT_EQ(prepare(*b, "SELECT @@server_id"), -1461);  // each session is far below its own 128
  EXPECT_EQ(prepare(*a, "SELECT @@server_id"), -1461);
  EXPECT_EQ(budget().count(), before + 4);
  // A closed statement gives its place back (COM_STMT_CLOSE has no answer; the same session's next
  // command is read after it).
  close_statement(*b, last);
  EXPECT_GT(prepare(*b, "SELECT @@server_id"), 0);
  EXPECT_EQ(prepare(*a, "SELECT @@server_id"), -1461);
  // An ended session gives back all of its statements.
  a.reset();
  EXPECT_TRUE(wait_until([&] { return budget().count() == before + 1; }));  // b's one left
  EXPECT_GT(prepare(*b, "SELECT @@server_id"), 0);

  // Bytes: a statement that would take the total past the byte bound is refused as well.
  budget().set_limits(PreparedStatementBudget::kMaxCount, budget().bytes() + 2000);
  const std::string big = "SELECT @@server_id /*" + std::string(4000, 'x') + "*/";
  EXPECT_EQ(prepare(*b, big), -1461);
  EXPECT_GT(prepare(*b, "SELECT @@server_id"), 0);
}

}  // namespace
}  // namespace brelay::testing
