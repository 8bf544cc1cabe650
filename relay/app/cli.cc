#include "relay/app/cli.h"

#include <ostream>

#include <CLI/CLI.hpp>

#include "relay/app/commands.h"
#include "relay/app/daemon.h"
#include "relay/app/version.h"
#include "relay/core/config.h"
#include "relay/core/config_access.h"

namespace brelay::relay {

namespace {

// What the command line asked for: the options of every subcommand, filled in while CLI11 parses.
struct CommandLine {
  std::string config_path;  // run --config
  DaemonOptions daemon;
  HashPasswordOptions hash_password;
  DumpCommandOptions dump;
  ExportCommandOptions export_files;
  CheckCommandOptions check;
  ImportCommandOptions import;
  RekeyCommandOptions rekey;
  StatusCommandOptions status;
  AzureCommandOptions azure;
};

// --quiet, and the hidden --progress-interval-ms that tests shorten.
void add_progress_options(CLI::App& command, bool& quiet, int& interval_ms) {
  command.add_flag("--quiet", quiet,
                   "Print no progress (bytes done, rate, time left) on a terminal's stderr");
  command.add_option("--progress-interval-ms", interval_ms, "How often progress is redrawn")
      ->check(CLI::Range(0, 60'000))
      ->group("");
}

CLI::App* add_run_command(CLI::App& app, CommandLine& line) {
  CLI::App* run = app.add_subcommand("run", "Run the relay in the foreground until SIGTERM or SIGINT");
  run->add_option("--config", line.config_path, "The configuration file (TOML)")->required();
  run->add_option("--log-level", line.daemon.log_level,
                  "Override [log] level: trace, debug, info, warn, error, critical or off");
  run->add_option("--log-format", line.daemon.log_format,
                  "Override [log] format: text, or json (one JSON object per line: time, level, component, "
                  "message)")
      ->check(CLI::IsMember({"text", "json"}));
  run->add_flag("--allow-insecure-config", line.daemon.allow_insecure_config,
                "Start even though the configuration file holds plain-text passwords and others may read it");
  return run;
}

CLI::App* add_hash_password_command(CLI::App& app, CommandLine& line) {
  CLI::App* hash_password = app.add_subcommand(
      "hash-password",
      "Print the native_hash and sha2_hash lines of a [[users]] entry for a password read from standard "
      "input (asked twice without echo on a terminal) or a file");
  hash_password->add_option("--password-file", line.hash_password.password_file,
                            "Read the password from this file (trailing newlines are dropped)");
  return hash_password;
}

CLI::App* add_dump_command(CLI::App& app, CommandLine& line) {
  DumpCommandOptions& options = line.dump;
  CLI::App* dump = app.add_subcommand(
      "dump",
      "List stored events (Log_name, Pos, Event_type, Server_id, End_log_pos, Info), tab-separated; "
      "works while the relay runs");
  dump->add_option("--data-dir", options.data_dir, "The relay's [storage] data_dir")->required();
  dump->add_option("--key-file", options.key_file,
                   "The relay's [storage] encryption_key_file (encrypted stores)");
  dump->add_option("--from", options.from, "Start at FILE or FILE:POS (default: the oldest stored event)");
  dump->add_flag("--gtid", options.gtid, "Add a Gtid column: the transaction each event belongs to");
  dump->add_option("--limit", options.limit, "List at most this many events");
  return dump;
}

CLI::App* add_export_command(CLI::App& app, CommandLine& line) {
  ExportCommandOptions& options = line.export_files;
  CLI::App* export_files = app.add_subcommand(
      "export",
      "Write stored binlog files back out as binlog files, byte for byte; works while the relay runs");
  export_files->add_option("--data-dir", options.data_dir, "The relay's [storage] data_dir")->required();
  export_files->add_option("--key-file", options.key_file,
                           "The relay's [storage] encryption_key_file (encrypted stores)");
  export_files->add_option("--out", options.out_dir, "The directory to write the files into")->required();
  export_files->add_option("--file", options.files, "Export only this file (repeatable)");
  export_files->add_flag("--overwrite", options.overwrite, "Replace files that exist in --out");
  add_progress_options(*export_files, options.quiet, options.progress_interval_ms);
  return export_files;
}

CLI::App* add_check_command(CLI::App& app, CommandLine& line) {
  CheckCommandOptions& options = line.check;
  CLI::App* check = app.add_subcommand(
      "check",
      "Preflight: check the configuration, the source (version, binary log settings, server_id, GTIDs, the "
      "account's privileges, storage engines, primary keys, binlog expiry, checksums) and this host (TLS "
      "certificate, free disk), one verdict per line; exit status 0 when nothing FAILs");
  check->add_option("--config", options.config_path, "The configuration file (TOML)")->required();
  check->add_flag("--config-only", options.config_only,
                  "Check the configuration and this host only; do not connect to the source");
  check->add_option("--inspect-user", options.inspect_user,
                    "Read the table lists as this account (one with global SELECT) instead of [source] user");
  check->add_option("--inspect-password-file", options.inspect_password_file,
                    "The password of --inspect-user, from a file");
  return check;
}

CLI::App* add_import_command(CLI::App& app, CommandLine& line) {
  CLI::App* import = app.add_subcommand(
      "import",
      "Seed the store from binlog files copied off a server (oldest first), checking their order, "
      "continuity and checksums; the relay must be stopped");
  import->add_option("--config", line.import.config_path, "The configuration file (TOML)")->required();
  import->add_option("binlogs", line.import.files, "Binlog files, oldest first")->required();
  add_progress_options(*import, line.import.quiet, line.import.progress_interval_ms);
  return import;
}

CLI::App* add_rekey_command(CLI::App& app, CommandLine& line) {
  CLI::App* rekey = app.add_subcommand(
      "rekey",
      "Rewrap the data key of every encrypted stored file under the newest master key id of [storage] "
      "encryption_key_file (event bytes are not rewritten); the relay must be stopped");
  rekey->add_option("--config", line.rekey.config_path, "The configuration file (TOML)")->required();
  return rekey;
}

CLI::App* add_status_command(CLI::App& app, CommandLine& line) {
  CLI::App* status = app.add_subcommand(
      "status",
      "Show the running relay's status (upstream, stored and source coordinates, lag, store, retention, "
      "replicas) from its [metrics] listen endpoint, or what the store holds when it is not running; exit "
      "status 3 when the relay does not answer");
  status->add_option("--config", line.status.config_path, "The configuration file (TOML)")->required();
  status->add_option("--timeout-ms", line.status.timeout_ms, "How long to wait for the relay's answer");
  return status;
}

CLI::App* add_azure_command(CLI::App& app, CommandLine& line) {
  AzureCommandOptions& options = line.azure;
  CLI::App* azure = app.add_subcommand(
      "azure",
      "Print, ready to paste, the statements that set up Azure Database for MySQL Data-in replication "
      "from this relay (SET @ca, CALL mysql.az_replication_change_master or _with_gtid, and for --gtid "
      "the `az mysql flexible-server gtid reset` line), after checking the account, TLS and coordinates");
  azure->add_option("--config", options.config_path, "The configuration file (TOML)")->required();
  azure->add_option("--host", options.host, "The relay's name or address as the Azure server resolves it")
      ->required();
  azure->add_option("--port", options.port,
                    "The relay's port as Azure reaches it (default: [server] listen's)");
  azure->add_option("--user", options.user, "The [[users]] account (role replica) the target logs in as")
      ->required();
  azure->add_option("--password", options.password,
                    "The account's password, checked against the configuration (default: a placeholder)");
  azure->add_option("--ca", options.ca_file,
                    "The CA certificate (PEM) the target verifies the relay with "
                    "(default: the chain of [server] tls_cert)");
  azure->add_flag("--no-tls", options.no_tls, "The target connects without TLS (master_ssl_ca '')");
  azure->add_option("--from", options.from, "Start at FILE:POS (default: the end of what the relay stores)");
  azure->add_option("--from-mydumper", options.from_mydumper,
                    "Start at the coordinates of a mydumper dump (the directory holding its metadata file)");
  azure->add_flag("--gtid", options.gtid,
                  "Position by GTID (HA-enabled servers): _with_gtid and the gtid reset value");
  return azure;
}

int run_from_config(const std::string& config_path, const DaemonOptions& options, std::ostream& err) {
  auto config = load_config(config_path);
  if (!config) {
    err << "binlog-relay: " << config.error().message() << "\n";
    return 2;
  }
  auto exposure = config_exposure(*config);
  if (!exposure) {
    err << "binlog-relay: " << exposure.error().message() << "\n";
    return 2;
  }
  if (*exposure && !options.allow_insecure_config) {
    err << "binlog-relay: refusing to start: " << (*exposure)->problem << ".\nTo fix: " << (*exposure)->fix
        << ".\n";
    return 2;
  }
  return run_daemon(std::move(config).value(), options);
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "binlog-relay: pulls a MySQL/MariaDB source's binlog as a replica, stores it durably in LMDB "
      "and serves it again as a master to replicas and binlog readers.",
      "binlog-relay"};
  app.set_version_flag("--version", std::string("binlog-relay ") + kVersion);
  app.require_subcommand(0, 1);

  CommandLine line;
  CLI::App* run = add_run_command(app, line);
  CLI::App* hash_password = add_hash_password_command(app, line);
  CLI::App* dump = add_dump_command(app, line);
  CLI::App* export_files = add_export_command(app, line);
  CLI::App* check = add_check_command(app, line);
  CLI::App* import = add_import_command(app, line);
  CLI::App* rekey = add_rekey_command(app, line);
  CLI::App* status = add_status_command(app, line);
  CLI::App* azure = add_azure_command(app, line);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports --help and --version as "errors" with exit code 0.
    return app.exit(e, out, err);
  }

  if (run->parsed()) return run_from_config(line.config_path, line.daemon, err);
  if (check->parsed()) return run_check(line.check, out, err);
  if (hash_password->parsed()) return run_hash_password(line.hash_password, out, err);
  if (dump->parsed()) return run_dump(line.dump, out, err);
  if (export_files->parsed()) return run_export(line.export_files, out, err);
  if (import->parsed()) return run_import(line.import, out, err);
  if (rekey->parsed()) return run_rekey(line.rekey, out, err);
  if (status->parsed()) return run_status(line.status, out, err);
  if (azure->parsed()) return run_azure(line.azure, out, err);
  out << app.help();
  return 0;
}

}  // namespace brelay::relay
