// Runs the binlog-relay binary under test with `args` and returns what it printed and its exit
// status; a command that cannot be run at all is a non-fatal test failure (and an empty output).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/relay_process.h"

namespace brelay::testing {

inline CommandOutput relay_command(const std::vector<std::string>& args,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  std::vector<std::string> argv = {binlog_relay_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto output = run_command(argv, {}, timeout);
  EXPECT_TRUE(output) << output.error().message();
  return output ? *output : CommandOutput{};
}

}  // namespace brelay::testing
