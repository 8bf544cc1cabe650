// The harness stops exactly the mariadbd it started: after a normal teardown, after a test that
// fails on purpose, and after a test process that crashes with the server running.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <thread>

#include "tests/support/mariadb_server.h"

namespace brelay::testing {
namespace {

bool gone_within(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_gone(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return process_gone(pid);
}

pid_t run_child(const std::string& mode, bool expected_exit_not_zero) {
  auto dir = TempDir::create("harness");
  EXPECT_TRUE(dir);
  const std::string pid_file = dir->file("pid");
  auto output = run_command({BRELAY_HARNESS_FAILING_CHILD, mode, pid_file});
  EXPECT_TRUE(output) << output.error().message();
  if (expected_exit_not_zero) {
    EXPECT_NE(output->exit_status, 0) << output->out << output->err;
  } else {
    EXPECT_EQ(output->exit_status, 0) << output->out << output->err;
  }
  auto pid_text = read_file(pid_file);
  EXPECT_TRUE(pid_text) << "the child never started its server: " << output->out << output->err;
  if (!pid_text) return -1;
  // A crashed child cannot remove its temporary directory (the parent of the data directory).
  const auto newline = pid_text->find('\n');
  const std::string data_dir = pid_text->substr(newline + 1, pid_text->find('\n', newline + 1) - newline - 1);
  if (mode == "crash" && data_dir.find("/brelay-mariadb-") != std::string::npos) {
    std::error_code ignored;
    std::filesystem::remove_all(std::filesystem::path(data_dir).parent_path(), ignored);
  }
  return static_cast<pid_t>(std::stol(*pid_text));
}

TEST(Harness, ServerAnswersThenIsGoneAfterTeardown) {
  pid_t pid = -1;
  {
    auto server = MariaDbServer::start();
    ASSERT_TRUE(server) << server.error().message();
    pid = (*server)->pid();
    ASSERT_GT(pid, 0);
    EXPECT_FALSE(process_gone(pid));
    auto rows = (*server)->query("SELECT 40 + 2");
    ASSERT_TRUE(rows) << rows.error().message();
    EXPECT_EQ(*rows, (Rows{{"42"}}));
  }
  EXPECT_TRUE(process_gone(pid)) << "mariadbd pid " << pid << " outlived its MariaDbServer";
}

TEST(Harness, ServerIsGoneAfterATestFailsOnPurpose) {
  const pid_t pid = run_child("fail", true);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(gone_within(pid, std::chrono::seconds(5))) << "mariadbd pid " << pid << " left running";
}

TEST(Harness, ServerIsGoneAfterTheTestProcessCrashes) {
  const pid_t pid = run_child("crash", true);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(gone_within(pid, std::chrono::seconds(5))) << "mariadbd pid " << pid << " left running";
}

TEST(Harness, TheCheckCanFail) {
  // The same check against a live server must say "not gone", or the tests above prove nothing.
  auto server = MariaDbServer::start();
  ASSERT_TRUE(server) << server.error().message();
  EXPECT_FALSE(gone_within((*server)->pid(), std::chrono::seconds(1)));
}

TEST(Harness, RestartKeepsDataAndPort) {
  auto server = MariaDbServer::start();
  ASSERT_TRUE(server) << server.error().message();
  auto& s = **server;
  ASSERT_TRUE(
      s.execute("CREATE DATABASE t; CREATE TABLE t.a (id INT PRIMARY KEY); INSERT INTO t.a VALUES (1),(2);"));
  const auto port = s.port();
  const pid_t first_pid = s.pid();
  auto restarted = s.restart();
  ASSERT_TRUE(restarted) << restarted.error().message();
  EXPECT_EQ(s.port(), port);
  EXPECT_NE(s.pid(), first_pid);
  EXPECT_TRUE(process_gone(first_pid));
  auto rows = s.query("SELECT COUNT(*) FROM t.a");
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_EQ(*rows, (Rows{{"2"}}));
}

TEST(Harness, BatchOutputIsDecoded) {
  EXPECT_EQ(parse_batch_output("a\tb\\tc\nNULL\t\\\\x\\n\n"), (Rows{{"a", "b\tc"}, {"NULL", "\\x\n"}}));
  EXPECT_TRUE(parse_batch_output("").empty());
}

}  // namespace
}  // namespace brelay::testing
