#include "tests/support/mariadb_server.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>

namespace brelay::testing {
namespace {

constexpr const char* kInnodbLogFileSize = "--innodb-log-file-size=64M";
constexpr const char* kInnodbBufferPool = "--innodb-buffer-pool-size=64M";

bool running_as_root() {
  return geteuid() == 0;
}

std::string unescape_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out.push_back(field[i]);
      continue;
    }
    const char next = field[++i];
    switch (next) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case '0': out.push_back('\0'); break;
      case '\\': out.push_back('\\'); break;
      default:
        out.push_back('\\');
        out.push_back(next);
        break;
    }
  }
  return out;
}

}  // namespace

Rows parse_batch_output(std::string_view output) {
  Rows rows;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(start, end - start);
    std::vector<std::string> row;
    std::size_t field_start = 0;
    while (true) {
      const std::size_t tab = line.find('\t', field_start);
      row.push_back(
          unescape_field(line.substr(field_start, tab == std::string_view::npos ? tab : tab - field_start)));
      if (tab == std::string_view::npos) break;
      field_start = tab + 1;
    }
    rows.push_back(std::move(row));
    start = end + 1;
  }
  return rows;
}

Result<std::unique_ptr<MariaDbServer>> MariaDbServer::start(const MariaDbOptions& options) {
  std::unique_ptr<MariaDbServer> server(new MariaDbServer());
  server->options_ = options;
  BRELAY_ASSIGN_OR_RETURN(TempDir dir, TempDir::create("mariadb"));
  server->dir_ = std::make_unique<TempDir>(std::move(dir));
  server->data_dir_ = server->dir_->file("data");
  server->socket_path_ = server->dir_->file("mariadb.sock");
  server->error_log_ = server->dir_->file("error.log");
  // Each server (and its bootstrap) gets its own tmpdir: concurrent bootstraps sharing /tmp clash.
  std::filesystem::create_directory(server->dir_->file("tmp"));

  std::vector<std::string> install = {"mariadb-install-db",
                                      "--no-defaults",
                                      "--datadir=" + server->data_dir_,
                                      "--auth-root-authentication-method=normal",
                                      "--skip-test-db",
                                      "--tmpdir=" + server->dir_->file("tmp"),
                                      kInnodbLogFileSize,
                                      kInnodbBufferPool};
  if (running_as_root()) install.push_back("--user=root");
  BRELAY_ASSIGN_OR_RETURN(CommandOutput installed, run_command(install));
  if (installed.exit_status != 0) {
    return make_error("mariadb-install-db failed (exit {}): {}{}", installed.exit_status, installed.out,
                      installed.err);
  }
  // The port may be taken between free_loopback_port() and mariadbd's bind: try a few.
  Status launched;
  for (int attempt = 0; attempt < 5; ++attempt) {
    BRELAY_ASSIGN_OR_RETURN(server->port_, free_loopback_port());
    launched = server->launch();
    if (launched) break;
    if (server->error_log_tail(50).find("Address already in use") == std::string::npos) break;
  }
  if (!launched) return std::move(launched).error();
  return server;
}

Status MariaDbServer::launch() {
  std::vector<std::string> argv = {
      "mariadbd",
      "--no-defaults",
      "--datadir=" + data_dir_,
      "--socket=" + socket_path_,
      "--port=" + std::to_string(port_),
      "--bind-address=127.0.0.1",
      "--pid-file=" + dir_->file("mariadbd.pid"),
      "--log-error=" + error_log_,
      "--tmpdir=" + dir_->file("tmp"),
      "--server-id=" + std::to_string(options_.server_id),
      "--skip-name-resolve",
      "--default-storage-engine=" + options_.default_storage_engine,
      "--max-allowed-packet=1G",
      "--max-connections=500",
      "--innodb-flush-log-at-trx-commit=2",
      kInnodbLogFileSize,
      kInnodbBufferPool,
      "--loose-innodb-buffer-pool-dump-at-shutdown=0",
      "--loose-innodb-buffer-pool-load-at-startup=0",
  };
  if (running_as_root()) argv.push_back("--user=root");
  if (options_.log_bin) {
    argv.push_back("--log-bin=" + options_.log_bin_basename);
    argv.push_back("--binlog-format=" + options_.binlog_format);
    argv.push_back("--binlog-checksum=" + options_.binlog_checksum);
    if (options_.max_binlog_size > 0)
      argv.push_back("--max-binlog-size=" + std::to_string(options_.max_binlog_size));
  } else {
    argv.push_back("--skip-log-bin");
  }
  if (options_.gtid_domain_id) argv.push_back("--gtid-domain-id=" + std::to_string(*options_.gtid_domain_id));
  if (options_.gtid_strict_mode) argv.push_back("--gtid-strict-mode=1");
  if (options_.semi_sync_master) {
    argv.push_back("--rpl-semi-sync-master-enabled=1");
    argv.push_back("--rpl-semi-sync-master-timeout=" + std::to_string(options_.semi_sync_master_timeout_ms));
  }
  if (options_.semi_sync_slave) argv.push_back("--rpl-semi-sync-slave-enabled=1");
  if (options_.tls) {
    argv.push_back("--ssl-ca=" + options_.tls->ca_cert);
    argv.push_back("--ssl-cert=" + options_.tls->server_cert);
    argv.push_back("--ssl-key=" + options_.tls->server_key);
  }
  if (options_.require_secure_transport) argv.push_back("--require-secure-transport=ON");
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());

  ProcessOptions process_options;
  process_options.argv = argv;
  process_options.stdout_path = dir_->file("mariadbd.out");
  process_options.stderr_path = dir_->file("mariadbd.out");
  process_options.append_output = true;
  BRELAY_ASSIGN_OR_RETURN(Process process, Process::start(process_options));
  process_.emplace(std::move(process));
  Status ready = wait_until_ready();
  if (!ready) {
    kill();
    return std::move(ready).error();
  }
  return {};
}

Status MariaDbServer::wait_until_ready() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) {
      return make_error("mariadbd exited with status {} during start-up; error log:\n{}",
                        process_->exit_status().value_or(-1), error_log_tail());
    }
    if (std::filesystem::exists(socket_path_)) {
      auto rows = query("SELECT 1");
      if (rows && !rows->empty() && rows->front().front() == "1") return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return make_error("mariadbd (pid {}) did not answer within 60 s; error log:\n{}", pid(), error_log_tail());
}

MariaDbServer::~MariaDbServer() {
  auto stopped = stop();
  (void)stopped;
}

bool MariaDbServer::running() {
  return process_ && process_->running();
}

Result<Rows> MariaDbServer::query(std::string_view sql) {
  BRELAY_ASSIGN_OR_RETURN(CommandOutput output,
                          run_command({"mariadb", "--no-defaults", "--user=root", "--socket=" + socket_path_,
                                       "--batch", "--skip-column-names", "--max-allowed-packet=1G"},
                                      sql));
  if (output.exit_status != 0) {
    return make_error("mariadb client failed (exit {}) running [{}]: {}", output.exit_status,
                      sql.substr(0, 200), output.err);
  }
  return parse_batch_output(output.out);
}

Status MariaDbServer::execute(std::string_view sql) {
  BRELAY_TRY(query(sql));
  return {};
}

std::vector<std::string> MariaDbServer::client_tcp_argv() const {
  return {"mariadb",
          "--no-defaults",
          "--protocol=TCP",
          "--host=127.0.0.1",
          "--port=" + std::to_string(port_),
          "--user=root",
          "--batch",
          "--skip-column-names"};
}

Result<CommandOutput> MariaDbServer::client(const std::vector<std::string>& args, std::string_view input) {
  std::vector<std::string> argv = client_tcp_argv();
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, input);
}

Status MariaDbServer::stop() {
  if (!process_) return {};
  auto status = process_->stop(std::chrono::seconds(60));
  process_.reset();
  if (!status) return std::move(status).error();
  return {};
}

void MariaDbServer::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  auto ignored = process_->wait(std::chrono::seconds(10));
  (void)ignored;
  process_.reset();
}

Status MariaDbServer::restart() {
  BRELAY_TRY(stop());
  return launch();
}

std::string MariaDbServer::error_log_tail(std::size_t lines) const {
  auto contents = read_file(error_log_);
  if (!contents) return "(no error log)";
  const std::string& text = *contents;
  std::size_t pos = text.size();
  for (std::size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
  }
  return text.substr(pos);
}

std::map<std::string, std::string> slave_status(MariaDbServer& server) {
  std::map<std::string, std::string> status;
  auto output = server.client({"--column-names", "--vertical", "-e", "SHOW SLAVE STATUS"});
  if (!output) return status;
  std::istringstream lines(output->out);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(0, key.find_first_not_of(' '));
    status[key] = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
  }
  return status;
}

}  // namespace brelay::testing
