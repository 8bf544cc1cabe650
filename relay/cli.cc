#include "relay/cli.h"

#include <ostream>

#include <CLI/CLI.hpp>

#include "relay/config.h"
#include "relay/daemon.h"
#include "relay/version.h"

namespace brelay::relay {

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "binlog-relay: pulls a MySQL/MariaDB source's binlog as a replica, stores it durably in LMDB "
      "and serves it again as a master to replicas and binlog readers.",
      "binlog-relay"};
  app.set_version_flag("--version", std::string("binlog-relay ") + kVersion);
  app.require_subcommand(0, 1);

  std::string config_path;
  DaemonOptions daemon_options;
  CLI::App* run = app.add_subcommand("run", "Run the relay in the foreground until SIGTERM or SIGINT");
  run->add_option("--config", config_path, "The configuration file (TOML)")->required();
  run->add_option("--log-level", daemon_options.log_level,
                  "Override [log] level: trace, debug, info, warn, error, critical or off");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports --help and --version as "errors" with exit code 0.
    return app.exit(e, out, err);
  }

  if (run->parsed()) {
    auto config = load_config(config_path);
    if (!config) {
      err << "binlog-relay: " << config.error().message() << "\n";
      return 2;
    }
    return run_daemon(std::move(config).value(), daemon_options);
  }
  out << app.help();
  return 0;
}

}  // namespace brelay::relay
