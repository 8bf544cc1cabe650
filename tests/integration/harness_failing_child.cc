// Run by harness_test: starts a real mariadbd through the harness, writes its pid and data directory to
// the file named by argv[2], then ends the way argv[1] says: "fail" (a failing GoogleTest assertion), "crash"
// (abort(), so no destructor runs) or "exit" (a normal successful run).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "tests/support/mariadb_server.h"

namespace {
const char* g_mode = "";
const char* g_pid_file = "";

TEST(HarnessFailingChild, StartsAServerThenEndsAsTold) {
  auto server = brelay::testing::MariaDbServer::start();
  ASSERT_TRUE(server) << server.error().message();
  std::ofstream(g_pid_file) << (*server)->pid() << "\n" << (*server)->data_dir() << "\n";
  if (std::strcmp(g_mode, "crash") == 0) std::abort();
  if (std::strcmp(g_mode, "fail") == 0) FAIL() << "deliberate failure with mariadbd running";
}
}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s fail|crash|exit PID_FILE\n", argv[0]);
    return 2;
  }
  g_mode = argv[1];
  g_pid_file = argv[2];
  return RUN_ALL_TESTS();
}
