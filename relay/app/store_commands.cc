// `binlog-relay import` (seed the store from binlog files) and `binlog-relay status` (the running
// relay's status from its /status endpoint, else what the store on disk says).
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <ostream>

#include <fmt/format.h>

#include "relay/app/commands.h"
#include "relay/app/progress.h"
#include "relay/core/config.h"
#include "relay/core/config_to_layers.h"
#include "relay/http/relay_status.h"
#include "relay/tools/binlog_import.h"
#include "relay/tools/store_rekey.h"
#include "storage/binlog_store.h"

namespace brelay::relay {
namespace {

// A socket closed on every path.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on `fd` until `deadline`. Errors: timed out.
Status wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline, std::string_view what) {
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error("timed out {}", what);
    pollfd poll_fd{fd, events, 0};
    const int ready = ::poll(&poll_fd, 1, static_cast<int>(left.count()));
    if (ready > 0) return {};
    if (ready < 0 && errno != EINTR) return make_error("poll: {}", std::strerror(errno));
  }
}

// GET `path` from the relay's own HTTP endpoint at `address` (a loopback or local address from
// [metrics] listen), sending `bearer_token` as "Authorization: Bearer" when not empty; the response
// body when the status is 200.
Result<std::string> http_get(const net::HostPort& address, std::string_view path,
                             std::chrono::milliseconds timeout, const std::string& bearer_token) {
  std::string host = address.host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return make_error("{}: {}", host, gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  Socket socket(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (socket.fd() < 0) return make_error("socket: {}", std::strerror(errno));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string where = fmt::format("http://{}{}", net::HostPort{host, address.port}.to_string(), path);
  if (::connect(socket.fd(), found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS)
    return make_error("{}: {}", where, std::strerror(errno));
  BRELAY_TRY(wait_for(socket.fd(), POLLOUT, deadline, "connecting to " + where));
  int connect_error = 0;
  socklen_t length = sizeof(connect_error);
  ::getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &connect_error, &length);
  if (connect_error != 0) return make_error("{}: {}", where, std::strerror(connect_error));
  const std::string authorization =
      bearer_token.empty() ? std::string() : fmt::format("Authorization: Bearer {}\r\n", bearer_token);
  const std::string request =
      fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\n{}Connection: close\r\n\r\n", path, host, authorization);
  std::size_t sent = 0;
  while (sent < request.size()) {
    BRELAY_TRY(wait_for(socket.fd(), POLLOUT, deadline, "sending to " + where));
    const ssize_t n = ::send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return make_error("{}: {}", where, std::strerror(errno));
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buffer[16384];
  while (response.size() < (std::size_t{4} << 20)) {
    BRELAY_TRY(wait_for(socket.fd(), POLLIN, deadline, "reading from " + where));
    const ssize_t n = ::recv(socket.fd(), buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return make_error("{}: {}", where, std::strerror(errno));
    }
    response.append(buffer, static_cast<std::size_t>(n));
  }
  const auto head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos || response.compare(0, 5, "HTTP/") != 0)
    return make_error("{} did not answer HTTP", where);
  const auto space = response.find(' ');
  const std::string status_code = response.substr(space + 1, 3);
  if (status_code != "200")
    return make_error("{} answered {}", where, response.substr(space + 1, response.find('\r') - space - 1));
  return response.substr(head_end + 4);
}

}  // namespace

int run_rekey(const RekeyCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto config = load_config(options.config_path);
  if (!config) {
    err << "binlog-relay rekey: " << config.error().message() << "\n";
    return 2;
  }
  auto report = rekey_store(config->storage);
  if (!report) {
    err << "binlog-relay rekey: " << report.error().message() << "\n";
    return 1;
  }
  out << fmt::format("rewrapped {} data keys under master key id {} ({} encrypted files, {} plain)\n",
                     report->rewrapped, report->master_id, report->encrypted_files, report->plain_files);
  return 0;
}

int run_import(const ImportCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto config = load_config(options.config_path);
  if (!config) {
    err << "binlog-relay import: " << config.error().message() << "\n";
    return 2;
  }
  if (options.files.empty()) {
    err << "binlog-relay import: give the binlog files to import, oldest first\n";
    return 2;
  }
  for (const std::string& path : options.files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      err << "binlog-relay import: " << path << " is not a readable file\n";
      return 1;
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(config->storage.data_dir, ec);
  if (ec) {
    err << fmt::format("binlog-relay import: cannot create {}: {}\n", config->storage.data_dir, ec.message());
    return 1;
  }
  auto store_options = relay::store_options(config->storage);
  if (!store_options) {
    err << "binlog-relay import: " << store_options.error().message() << "\n";
    return 2;
  }
  auto store = storage::BinlogStore::open(config->storage.data_dir, *store_options);
  if (!store) {
    err << "binlog-relay import: " << store.error().message()
        << " (stop the relay first: only one process may write the store)\n";
    return 1;
  }
  std::uint64_t file_bytes = 0;
  for (const std::string& path : options.files) {
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > 4) file_bytes += size - 4;  // the events, without the magic
  }
  // Each file is read twice: checked, then written.
  ProgressMeter progress(
      err, "import: ", 2 * file_bytes,
      {progress_wanted(options.quiet), std::chrono::milliseconds(options.progress_interval_ms)});
  ImportOptions import_options;
  import_options.on_bytes = [&progress](std::uint64_t bytes) { progress.add(bytes); };
  auto report = import_files(**store, options.files, import_options);
  progress.finish();
  if (!report) {
    err << "binlog-relay import: " << report.error().message() << "\n";
    return 1;
  }
  for (const ImportedFile& file : report->files) {
    out << fmt::format("{}\t{} events\tends at {}\t{}\n", file.name, file.events, file.end_position,
                       file.closed ? "closed" : "open (the relay continues it from the source)");
  }
  out << fmt::format("imported {} file(s): {} events, {} transactions, {} into {}\n", report->files.size(),
                     report->events, report->transactions, human_bytes(report->bytes),
                     config->storage.data_dir);
  return 0;
}

int run_status(const StatusCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto config = load_config(options.config_path);
  if (!config) {
    err << "binlog-relay status: " << config.error().message() << "\n";
    return 2;
  }
  std::string unreachable;
  if (config->metrics.listen) {
    auto live = http_get(*config->metrics.listen, "/status", std::chrono::milliseconds(options.timeout_ms),
                         config->metrics.status_token);
    if (live) {
      out << *live;
      return 0;
    }
    unreachable = live.error().message();
  } else {
    unreachable =
        "[metrics] listen is not set, so the running relay cannot be asked; set it to see the live state";
  }
  out << "Relay:  not reachable (" << unreachable << ")\n";
  // What the store on disk says.
  if (!std::filesystem::exists(config->storage.data_dir + "/data.mdb")) {
    out << "Store:  " << config->storage.data_dir << " holds no store yet\n";
    return 3;
  }
  auto store_options = relay::store_options(config->storage, true);
  if (!store_options) {
    err << "binlog-relay status: " << store_options.error().message() << "\n";
    return 1;
  }
  auto store = storage::BinlogStore::open(config->storage.data_dir, *store_options);
  if (!store) {
    err << "binlog-relay status: " << store.error().message() << "\n";
    return 1;
  }
  RelayStatusInputs inputs;
  inputs.store = store->get();
  StatusRows rows = relay_status_rows(inputs);
  std::erase_if(rows, [](const auto& row) {
    return row.first == "Upstream_State" || row.first == "Replicas" || row.first.starts_with("Retention");
  });
  out << format_status_rows(rows);
  return 3;
}

}  // namespace brelay::relay
