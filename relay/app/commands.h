// The binlog-relay subcommands other than `run` (daemon.h). Each returns the process exit status
// and writes its results to `out` and its errors, with what to do, to `err`. Called by run_cli().
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace brelay::relay {

struct HashPasswordOptions {
  std::string password_file;  // empty: read the password from standard input
};
// Prints the `native_hash = "..."` and `sha2_hash = "..."` lines for a [[users]] entry. From a
// terminal it asks twice without echo; otherwise it reads the first line of standard input (a
// password file: its contents without trailing newlines, as the config reads password_file).
// 0, or 1 when no usable password was given.
int run_hash_password(const HashPasswordOptions& options, std::ostream& out, std::ostream& err);

struct DumpCommandOptions {
  std::string data_dir;
  std::string key_file;  // [storage] encryption_key_file, for an encrypted store
  std::string from;      // "FILE[:POS]"; empty: the oldest stored event
  bool gtid = false;
  std::uint64_t limit = 0;
};
// Lists stored events (binlog_dump.h) from a store opened read-only. 0, or 1 on errors.
int run_dump(const DumpCommandOptions& options, std::ostream& out, std::ostream& err);

struct ExportCommandOptions {
  std::string data_dir;
  std::string key_file;            // [storage] encryption_key_file, for an encrypted store
  std::vector<std::string> files;  // empty: every stored file
  std::string out_dir;
  bool overwrite = false;
  bool quiet = false;               // no progress on stderr (progress.h)
  int progress_interval_ms = 1000;  // hidden --progress-interval-ms, for tests
};
// Writes stored files as binlog files into out_dir (binlog_export.h), one line per file. Refuses
// to replace existing files unless `overwrite`. 0, or 1 when any file failed.
int run_export(const ExportCommandOptions& options, std::ostream& out, std::ostream& err);

struct CheckCommandOptions {
  std::string config_path;
  bool config_only = false;  // only the configuration and local checks: no connection
  std::string inspect_user;  // another account for the table checks (empty: [source] user)
  std::string inspect_password_file;
};
// The preflight checklist (preflight.h). 0 when nothing failed, 1 when a check failed, 2 when the
// configuration does not load.
int run_check(const CheckCommandOptions& options, std::ostream& out, std::ostream& err);

struct ImportCommandOptions {
  std::string config_path;
  std::vector<std::string> files;   // oldest first
  bool quiet = false;               // no progress on stderr (progress.h)
  int progress_interval_ms = 1000;  // hidden --progress-interval-ms, for tests
};
// Seeds the store of [storage] data_dir from binlog files (binlog_import.h), one line per file. The
// relay must not be running (one writer per store). 0, 1 on errors, 2 when the configuration does
// not load.
int run_import(const ImportCommandOptions& options, std::ostream& out, std::ostream& err);

struct RekeyCommandOptions {
  std::string config_path;
};
// Rewraps every encrypted file's data key under the current (highest) master key id of [storage]
// encryption_key_file (store_rekey.h). The relay must be stopped. 0, 1 on errors, 2 when the
// configuration does not load.
int run_rekey(const RekeyCommandOptions& options, std::ostream& out, std::ostream& err);

struct StatusCommandOptions {
  std::string config_path;
  int timeout_ms = 3000;
};
// Prints the running relay's status (GET /status at [metrics] listen; as SHOW RELAY STATUS). When
// the relay cannot be reached, says why and prints what the store on disk holds. 0 when the relay
// answered, 3 when it did not (as `systemctl status` for a stopped unit), 1 or 2 on errors.
int run_status(const StatusCommandOptions& options, std::ostream& out, std::ostream& err);

struct AzureCommandOptions {
  std::string config_path;
  std::string host;        // the relay's name as Azure resolves it
  std::uint16_t port = 0;  // 0: [server] listen's port
  std::string user;        // a [[users]] account with role replica
  std::string password;    // empty: a placeholder is printed
  std::string ca_file;     // empty: [server] tls_cert's chain
  bool no_tls = false;
  std::string from;           // "FILE:POS"
  std::string from_mydumper;  // a mydumper output directory
  bool gtid = false;
};
// Prints the statements that set up Azure Database for MySQL Data-in replication from this relay
// (azure_setup.h), notes on standard error. 0, 1 when a check failed (the message says what to
// fix), 2 when the configuration does not load.
int run_azure(const AzureCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace brelay::relay
