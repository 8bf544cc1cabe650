// RelayProcess: the real `binlog-relay run` executable started by a test with a configuration it
// wrote, in a temporary directory. Readiness comes through systemd's protocol: the harness owns a
// datagram socket, passes it as NOTIFY_SOCKET and waits for READY=1, so tests never sleep and
// guess. The relay's stderr goes to a log file the test can read. Stopped by pid (SIGTERM, then
// SIGKILL) when the object goes away.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {

// The path of the binlog-relay executable in the build tree ($BRELAY_BINARY_DIR/relay/binlog-relay).
std::string binlog_relay_path();

// `sql` run with the real `mariadb` client on 127.0.0.1:`port` as `user`; its rows as tab-separated
// text without column names, or an error naming the statement and the client's message.
Result<std::string> mariadb_cli_query(std::uint16_t port, const std::string& user,
                                      const std::string& password, const std::string& sql);

// A relay configuration with test defaults, rendered as TOML. Sections are optional text blocks so
// that tests can add any key; `extra` is appended verbatim.
struct TestRelayConfig {
  std::string source_host = "127.0.0.1";
  std::uint16_t source_port = 3306;
  std::string source_user = "root";
  std::string source_password = "";
  std::uint32_t source_server_id = 4001;
  std::string source_extra;  // more [source] lines
  std::string data_dir;      // required
  std::string sync = "commit";
  std::string storage_extra;
  std::string listen;  // empty: 127.0.0.1 and a free port, chosen when rendered
  std::uint32_t server_id = 4002;
  std::string server_extra;
  std::string users =
      "[[users]]\nname = \"repl\"\npassword = \"replpw\"\nrole = \"replica\"\n"
      "[[users]]\nname = \"admin\"\npassword = \"adminpw\"\nrole = \"admin\"\n";
  std::string metrics_listen;  // empty: no [metrics]
  std::string log_level = "debug";
  std::string extra;

  std::string to_toml() const;
};

class RelayProcess {
 public:
  // Writes `config` to <dir>/relay.toml (dir: a new temporary directory unless given), starts the
  // relay and waits until it reports READY=1 (or exits, which is an error carrying its log).
  static Result<std::unique_ptr<RelayProcess>> start(
      const TestRelayConfig& config, std::chrono::milliseconds ready_timeout = std::chrono::seconds(60),
      std::vector<std::string> extra_args = {});
  // Starts with an existing config file and does not wait for readiness.
  static Result<std::unique_ptr<RelayProcess>> launch(const std::string& config_path,
                                                      std::vector<std::string> extra_args = {});

  ~RelayProcess();
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;

  pid_t pid() const { return process_ ? process_->pid() : -1; }
  bool running() { return process_ && process_->running(); }
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }
  std::string log() const;

  // Waits for a notification line starting with `prefix` (e.g. "READY=1", "STATUS=") and returns it.
  Result<std::string> wait_for_notification(std::string_view prefix, std::chrono::milliseconds timeout);
  // SIGTERM and wait; returns the exit status.
  Result<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void kill();  // SIGKILL
  void signal(int signal_number);
  Result<int> wait(std::chrono::milliseconds timeout);

 private:
  RelayProcess() = default;
  Status open_notify_socket();

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<TempDir> config_dir_holder_;
  std::string config_path_;
  std::string log_path_;
  std::string notify_path_;
  int notify_fd_ = -1;
  std::vector<std::string> notifications_;  // received, not yet consumed
  std::optional<Process> process_;
};

}  // namespace brelay::testing
