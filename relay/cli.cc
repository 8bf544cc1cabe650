#include "relay/cli.h"

#include <ostream>

#include <CLI/CLI.hpp>

#include "relay/version.h"

namespace brelay::relay {

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "binlog-relay: pulls a MySQL/MariaDB source's binlog as a replica, stores it durably in LMDB "
      "and serves it again as a master to replicas and binlog readers.",
      "binlog-relay"};
  app.set_version_flag("--version", std::string("binlog-relay ") + kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports --help and --version as "errors" with exit code 0.
    return app.exit(e, out, err);
  }
  out << app.help();
  return 0;
}

}  // namespace brelay::relay
