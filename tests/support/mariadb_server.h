// MariaDbServer: a real mariadbd started by a test in its own temporary directory, on a free
// loopback port, with the options the test asks for. SQL runs through the real `mariadb` client.
// The server is stopped, by pid, when the object goes away (also when the test fails), and the
// child dies with the test process even if the test crashes (PR_SET_PDEATHSIG).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace brelay::testing {

struct MariaDbOptions {
  std::uint32_t server_id = 1;
  bool log_bin = true;
  std::string log_bin_basename = "mysql-bin";
  std::string binlog_format = "ROW";      // ROW | STATEMENT | MIXED
  std::string binlog_checksum = "CRC32";  // CRC32 | NONE
  std::uint64_t max_binlog_size = 0;      // bytes; 0 = server default (1 GiB); minimum 4096
  std::optional<std::uint32_t> gtid_domain_id = {};
  bool gtid_strict_mode = false;
  bool semi_sync_master = false;  // rpl_semi_sync_master_enabled = ON
  bool semi_sync_slave = false;   // rpl_semi_sync_slave_enabled = ON
  std::uint64_t semi_sync_master_timeout_ms = 10000;
  // Serve TLS with these certificates (the harness makes them with generate_test_certificates).
  std::optional<TestCertificates> tls = {};
  bool require_secure_transport = false;
  std::string default_storage_engine = "InnoDB";
  // Any further mariadbd options, e.g. "--max-allowed-packet=1G".
  std::vector<std::string> extra_args = {};
};

// Rows of a result set, each a list of column values ("NULL" for SQL NULL).
using Rows = std::vector<std::vector<std::string>>;

class MariaDbServer {
 public:
  // Installs a data directory (copied from a per-process template made by mariadb-install-db),
  // starts mariadbd and waits until it answers (up to 60 s). On failure the error includes the tail
  // of the server's error log.
  static Result<std::unique_ptr<MariaDbServer>> start(const MariaDbOptions& options = {});

  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  bool running();
  const std::string& data_dir() const { return data_dir_; }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& error_log_path() const { return error_log_; }
  const MariaDbOptions& options() const { return options_; }
  // Full path of a binlog file in the data directory.
  std::string binlog_path(const std::string& file_name) const { return data_dir_ + "/" + file_name; }

  // Runs SQL (one or more statements) as root over the Unix socket with the real client and returns
  // the rows of every result set it printed, concatenated (tab-separated output decoded).
  Result<Rows> query(std::string_view sql);
  Status execute(std::string_view sql);
  // Runs the real client with `args` added to a root login over TCP; returns its exit status and output.
  Result<CommandOutput> client(const std::vector<std::string>& args, std::string_view input = {});
  // argv prefix for the real client connecting over TCP as root (tests append their own options).
  std::vector<std::string> client_tcp_argv() const;

  // SIGTERM and wait for a clean shutdown (SIGKILL after 60 s). Idempotent.
  Status stop();
  // SIGKILL, no clean shutdown (crash tests).
  void kill();
  // Starts the same data directory again on the same port.
  Status restart();

  // The server's error log, last `lines` lines.
  std::string error_log_tail(std::size_t lines = 30) const;

 private:
  MariaDbServer() = default;
  Status launch();
  Status wait_until_ready();

  MariaDbOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::string data_dir_;
  std::string socket_path_;
  std::string error_log_;
  std::uint16_t port_ = 0;
  std::optional<Process> process_;
};

// The real `mariadb` client's --batch output: rows of tab-separated, backslash-escaped fields.
Rows parse_batch_output(std::string_view output);

// SHOW SLAVE STATUS of `server` as field -> value (from the real client's vertical output); empty when
// the server is no replica or the query failed.
std::map<std::string, std::string> slave_status(MariaDbServer& server);

}  // namespace brelay::testing
