// Where the tests find the source tree (test data, Node scripts) and the build tree (the
// binlog-relay executable). Compiled in by CMake; the environment variables BRELAY_SOURCE_DIR and
// BRELAY_BINARY_DIR override them (for running a test binary from elsewhere).
#pragma once

#include <string>

namespace brelay::testing {

std::string source_dir();
std::string binary_dir();
// The Node scripts and their npm modules (mysql2, zongji): <source>/tests/node.
std::string node_dir();

}  // namespace brelay::testing
