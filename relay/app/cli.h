// The binlog-relay command line: parses argv with CLI11 and runs the chosen subcommand.
#pragma once

#include <iosfwd>

namespace brelay::relay {

// Runs the command line; returns the process exit status. Help and version go to `out`, errors to
// `err`. Called from main() and from tests.
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace brelay::relay
