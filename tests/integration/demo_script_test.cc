// scripts/demo, shortened: a real MariaDB source under load, the built binlog-relay and a real
// MariaDB replica through it. The script must exit 0, print its live lines and "checksums: equal",
// and leave no process behind: its temporary directory lives in this test's (TMPDIR), so every
// process it started names that directory on its command line and `pgrep -f` finds any left over.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>

#include <unistd.h>

#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

constexpr auto kDemoDeadline = std::chrono::seconds(240);

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Pids of processes whose command line contains `needle` (pgrep -f), this test's own excluded.
std::vector<pid_t> processes_naming(const std::string& needle) {
  std::vector<pid_t> pids;
  auto output = run_command({"pgrep", "-f", "--", needle});
  EXPECT_TRUE(output) << output.error().message();
  if (!output) return pids;
  std::istringstream lines(output->out);
  pid_t pid = 0;
  while (lines >> pid) {
    if (pid != ::getpid()) pids.push_back(pid);
  }
  return pids;
}

TEST(DemoScript, RunsShortenedWithEqualChecksumsAndLeavesNothingRunning) {
  auto dir = TempDir::create("demo-script");
  ASSERT_TRUE(dir) << dir.error().message();
  const std::string output_path = dir->file("demo.out");
  ProcessOptions options;
  options.argv = {source_dir() + "/scripts/demo", "--duration", "10", "--no-build"};
  options.env = {"BINLOG_RELAY=" + binary_dir() + "/relay/binlog-relay", "TMPDIR=" + dir->path()};
  options.stdout_path = output_path;
  options.stderr_path = output_path;
  auto demo = Process::start(options);
  ASSERT_TRUE(demo) << demo.error().message();

  auto status = demo->wait(kDemoDeadline);
  if (!status) {
    ADD_FAILURE() << "scripts/demo did not finish within " << kDemoDeadline.count() << " s: stopping it";
    // SIGTERM: the script's trap finishes and stops what it started.
    status = demo->stop(std::chrono::seconds(90));
  }
  const std::string output = read_text(output_path);
  ASSERT_TRUE(status) << status.error().message() << "\n" << output;
  EXPECT_EQ(*status, 0) << output;

  const std::regex live_line(R"(\[ *\d+s\] source \S+:\d+ \| relay \S+:\d+ \| replica read \d+ exec \S+:\d+ )"
                             R"(\| lag -?\d+ B, \d+ s \| \d+ events/s)");
  const auto live_lines =
      std::distance(std::sregex_iterator(output.begin(), output.end(), live_line), std::sregex_iterator());
  EXPECT_GE(live_lines, 8) << output;
  EXPECT_NE(output.find("checksums: equal"), std::string::npos) << output;
  EXPECT_EQ(output.find("DIFFERENT"), std::string::npos) << output;

  // The summary names both servers' checksums for both demo tables, and they are the same lines.
  std::smatch summary;
  ASSERT_TRUE(
      std::regex_search(output, summary, std::regex(R"(source:  (demo\.accounts \d+ demo\.transfers \d+))")))
      << output;
  EXPECT_NE(output.find("replica: " + summary[1].str()), std::string::npos) << output;

  const auto left = processes_naming(dir->path());
  for (pid_t pid : left)
    ::kill(pid, SIGKILL);
  EXPECT_TRUE(left.empty()) << left.size() << " processes started by scripts/demo were still running\n"
                            << output;

  // The script removed its own temporary directory (no --keep).
  std::smatch work;
  ASSERT_TRUE(std::regex_search(output, work, std::regex(R"(working in (\S+);)"))) << output;
  EXPECT_EQ(work[1].str().rfind(dir->path(), 0), 0u) << work[1].str();
  EXPECT_NE(::access(work[1].str().c_str(), F_OK), 0) << work[1].str() << " was left behind";
}

}  // namespace
}  // namespace brelay::testing
