#include "tests/support/relay_process.h"

#include "tests/support/paths.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace brelay::testing {

std::string binlog_relay_path() {
  return binary_dir() + "/relay/binlog-relay";
}

std::string TestRelayConfig::to_toml() const {
  std::string out;
  out += fmt::format(
      "[source]\nhost = \"{}\"\nport = {}\nuser = \"{}\"\npassword = \"{}\"\nserver_id = {}\n{}\n",
      source_host, source_port, source_user, source_password, source_server_id, source_extra);
  out += fmt::format("[storage]\ndata_dir = \"{}\"\nsync = \"{}\"\n{}\n", data_dir, sync, storage_extra);
  const std::string address =
      listen.empty() ? fmt::format("127.0.0.1:{}", free_loopback_port().value_or(3306)) : listen;
  out += fmt::format("[server]\nlisten = \"{}\"\nserver_id = {}\n{}\n", address, server_id, server_extra);
  out += users + "\n";
  if (!metrics_listen.empty()) out += fmt::format("[metrics]\nlisten = \"{}\"\n\n", metrics_listen);
  out += fmt::format("[log]\nlevel = \"{}\"\n\n", log_level);
  out += extra;
  return out;
}

Status RelayProcess::open_notify_socket() {
  notify_path_ = dir_->file("notify.sock");
  notify_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (notify_fd_ < 0) return make_error("notify socket: {}", std::strerror(errno));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (notify_path_.size() >= sizeof(address.sun_path)) return make_error("notify socket path too long");
  std::memcpy(address.sun_path, notify_path_.c_str(), notify_path_.size());
  if (::bind(notify_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return make_error("binding {}: {}", notify_path_, std::strerror(errno));
  }
  return {};
}

Result<std::unique_ptr<RelayProcess>> RelayProcess::launch(const std::string& config_path,
                                                           std::vector<std::string> extra_args) {
  std::unique_ptr<RelayProcess> relay(new RelayProcess());
  BRELAY_ASSIGN_OR_RETURN(TempDir dir, TempDir::create("relay"));
  relay->dir_ = std::make_unique<TempDir>(std::move(dir));
  relay->config_path_ = config_path;
  relay->log_path_ = relay->dir_->file("relay.log");
  BRELAY_TRY(relay->open_notify_socket());
  ProcessOptions options;
  options.argv = {binlog_relay_path(), "run", "--config", config_path};
  options.argv.insert(options.argv.end(), extra_args.begin(), extra_args.end());
  options.env = {"NOTIFY_SOCKET=" + relay->notify_path_};
  options.stdout_path = relay->log_path_;
  options.stderr_path = relay->log_path_;
  options.append_output = true;
  BRELAY_ASSIGN_OR_RETURN(Process process, Process::start(options));
  relay->process_.emplace(std::move(process));
  return relay;
}

Result<std::unique_ptr<RelayProcess>> RelayProcess::start(const TestRelayConfig& config,
                                                          std::chrono::milliseconds ready_timeout,
                                                          std::vector<std::string> extra_args) {
  BRELAY_ASSIGN_OR_RETURN(TempDir config_dir, TempDir::create("relay-config"));
  const std::string path = config_dir.file("relay.toml");
  BRELAY_TRY(write_file(path, config.to_toml()));
  BRELAY_ASSIGN_OR_RETURN(auto relay, launch(path, std::move(extra_args)));
  // Keep the config directory alive with the relay (the relay may re-read the file on SIGHUP).
  auto kept = std::make_unique<TempDir>(std::move(config_dir));
  relay->config_dir_holder_ = std::move(kept);
  BRELAY_TRY(relay->wait_for_notification("READY=1", ready_timeout));
  return relay;
}

RelayProcess::~RelayProcess() {
  if (process_ && process_->running()) {
    auto stopped = process_->stop(std::chrono::seconds(30));
    (void)stopped;
  }
  process_.reset();
  if (notify_fd_ >= 0) ::close(notify_fd_);
}

std::string RelayProcess::log() const {
  return read_file(log_path_).value_or("");
}

Result<std::string> RelayProcess::wait_for_notification(std::string_view prefix,
                                                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    for (auto it = notifications_.begin(); it != notifications_.end(); ++it) {
      if (it->starts_with(prefix)) {
        std::string found = *it;
        notifications_.erase(notifications_.begin(), it + 1);
        return found;
      }
    }
    if (!process_ || !process_->running()) {
      return make_error("binlog-relay exited (status {}) before sending {}; its log:\n{}",
                        process_ ? process_->exit_status().value_or(-1) : -1, prefix, log());
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return make_error("binlog-relay sent no {} within {} ms; its log:\n{}", prefix, timeout.count(), log());
    pollfd pfd{notify_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 100))) > 0) {
      char buffer[4096];
      const ssize_t got = ::recv(notify_fd_, buffer, sizeof(buffer), 0);
      if (got > 0) {
        std::string_view message(buffer, static_cast<std::size_t>(got));
        while (!message.empty()) {
          const auto end = message.find('\n');
          notifications_.emplace_back(message.substr(0, end));
          message = end == std::string_view::npos ? std::string_view() : message.substr(end + 1);
        }
      }
    }
  }
}

Result<int> RelayProcess::stop(std::chrono::milliseconds timeout) {
  if (!process_) return make_error("the relay was not started");
  process_->signal(SIGTERM);
  return process_->wait(timeout);
}

void RelayProcess::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  auto ignored = process_->wait(std::chrono::seconds(10));
  (void)ignored;
}

void RelayProcess::signal(int signal_number) {
  if (process_) process_->signal(signal_number);
}

Result<int> RelayProcess::wait(std::chrono::milliseconds timeout) {
  if (!process_) return make_error("the relay was not started");
  return process_->wait(timeout);
}

Result<std::string> mariadb_cli_query(std::uint16_t port, const std::string& user,
                                      const std::string& password, const std::string& sql) {
  BRELAY_ASSIGN_OR_RETURN(
      auto out, run_command({"mariadb", "--protocol=TCP", "-h127.0.0.1", "-P" + std::to_string(port),
                             "-u" + user, "-p" + password, "--batch", "--skip-column-names", "-e", sql}));
  if (out.exit_status != 0) return make_error("{}: {}", sql, out.err);
  return out.out;
}

}  // namespace brelay::testing
