#include "relay/app/cli.h"

#include <ostream>

#include <CLI/CLI.hpp>

#include "relay/app/commands.h"
#include "relay/app/daemon.h"
#include "relay/app/version.h"
#include "relay/core/config.h"

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

  HashPasswordOptions hash_options;
  CLI::App* hash_password = app.add_subcommand(
      "hash-password",
      "Print the native_hash and sha2_hash lines of a [[users]] entry for a password read from standard "
      "input (asked twice without echo on a terminal) or a file");
  hash_password->add_option("--password-file", hash_options.password_file,
                            "Read the password from this file (trailing newlines are dropped)");

  DumpCommandOptions dump_options;
  CLI::App* dump = app.add_subcommand(
      "dump",
      "List stored events (Log_name, Pos, Event_type, Server_id, End_log_pos, Info), tab-separated; "
      "works while the relay runs");
  dump->add_option("--data-dir", dump_options.data_dir, "The relay's [storage] data_dir")->required();
  dump->add_option("--from", dump_options.from,
                   "Start at FILE or FILE:POS (default: the oldest stored event)");
  dump->add_flag("--gtid", dump_options.gtid, "Add a Gtid column: the transaction each event belongs to");
  dump->add_option("--limit", dump_options.limit, "List at most this many events");

  ExportCommandOptions export_options;
  CLI::App* export_files = app.add_subcommand(
      "export",
      "Write stored binlog files back out as binlog files, byte for byte; works while the relay runs");
  export_files->add_option("--data-dir", export_options.data_dir, "The relay's [storage] data_dir")
      ->required();
  export_files->add_option("--out", export_options.out_dir, "The directory to write the files into")
      ->required();
  export_files->add_option("--file", export_options.files, "Export only this file (repeatable)");
  export_files->add_flag("--overwrite", export_options.overwrite, "Replace files that exist in --out");

  CheckCommandOptions check_options;
  CLI::App* check = app.add_subcommand(
      "check",
      "Preflight: check the configuration, the source (version, binary log settings, server_id, GTIDs, the "
      "account's privileges, storage engines, primary keys, binlog expiry, checksums) and this host (TLS "
      "certificate, free disk), one verdict per line; exit status 0 when nothing FAILs");
  check->add_option("--config", check_options.config_path, "The configuration file (TOML)")->required();
  check->add_flag("--config-only", check_options.config_only,
                  "Check the configuration and this host only; do not connect to the source");
  check->add_option("--inspect-user", check_options.inspect_user,
                    "Read the table lists as this account (one with global SELECT) instead of [source] user");
  check->add_option("--inspect-password-file", check_options.inspect_password_file,
                    "The password of --inspect-user, from a file");

  ImportCommandOptions import_options;
  CLI::App* import = app.add_subcommand(
      "import",
      "Seed the store from binlog files copied off a server (oldest first), checking their order, "
      "continuity and checksums; the relay must be stopped");
  import->add_option("--config", import_options.config_path, "The configuration file (TOML)")->required();
  import->add_option("binlogs", import_options.files, "Binlog files, oldest first")->required();

  StatusCommandOptions status_options;
  CLI::App* status = app.add_subcommand(
      "status",
      "Show the running relay's status (upstream, stored and source coordinates, lag, store, retention, "
      "replicas) from its [metrics] listen endpoint, or what the store holds when it is not running; exit "
      "status 3 when the relay does not answer");
  status->add_option("--config", status_options.config_path, "The configuration file (TOML)")->required();
  status->add_option("--timeout-ms", status_options.timeout_ms, "How long to wait for the relay's answer");

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
  if (check->parsed()) return run_check(check_options, out, err);
  if (hash_password->parsed()) return run_hash_password(hash_options, out, err);
  if (dump->parsed()) return run_dump(dump_options, out, err);
  if (export_files->parsed()) return run_export(export_options, out, err);
  if (import->parsed()) return run_import(import_options, out, err);
  if (status->parsed()) return run_status(status_options, out, err);
  out << app.help();
  return 0;
}

}  // namespace brelay::relay
