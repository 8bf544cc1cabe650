#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace brelay::testing {

struct FaultProxy::Link {
  int client_fd = -1;
  int server_fd = -1;
  std::optional<FaultPlan> plan;
  std::uint64_t server_bytes = 0;       // server-to-client bytes forwarded so far
  std::optional<std::uint64_t> target;  // absolute offset of the fault, once known
  std::string tail;                     // the last marker.size() - 1 bytes, for marker search
  bool done = false;

  ~Link() {
    if (client_fd >= 0) ::close(client_fd);
    if (server_fd >= 0) ::close(server_fd);
  }
};

namespace {

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<FaultProxy>> FaultProxy::start(std::string target_host, std::uint16_t target_port,
                                                      std::vector<FaultPlan> plans) {
  std::unique_ptr<FaultProxy> proxy(new FaultProxy());
  proxy->target_host_ = std::move(target_host);
  proxy->target_port_ = target_port;
  proxy->plans_ = std::move(plans);
  proxy->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (proxy->listen_fd_ < 0) return make_error("proxy socket: {}", std::strerror(errno));
  const int one = 1;
  ::setsockopt(proxy->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(proxy->listen_fd_, 16) != 0) {
    return make_error("proxy bind/listen on 127.0.0.1: {}", std::strerror(errno));
  }
  socklen_t length = sizeof(address);
  ::getsockname(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  proxy->port_ = ntohs(address.sin_port);
  if (::pipe2(proxy->wake_fds_, O_CLOEXEC) != 0) return make_error("proxy pipe: {}", std::strerror(errno));
  proxy->thread_ = std::thread([p = proxy.get()] { p->run(); });
  return proxy;
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  if (wake_fds_[1] >= 0) {
    const char byte = 0;
    (void)!::write(wake_fds_[1], &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
  links_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int fd : wake_fds_) {
    if (fd >= 0) ::close(fd);
  }
}

void FaultProxy::hold_server_to_client(bool hold) {
  held_ = hold;
  const char byte = 0;
  (void)!::write(wake_fds_[1], &byte, 1);
}

void FaultProxy::accept_one() {
  const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  auto link = std::make_unique<Link>();
  link->client_fd = client;
  const std::size_t index = accepted_.fetch_add(1);
  for (const FaultPlan& plan : plans_) {
    if (plan.connection == index) link->plan = plan;
  }
  link->server_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (const int buffer = server_receive_buffer_.load(); buffer > 0 && link->server_fd >= 0)
    ::setsockopt(link->server_fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(target_port_);
  ::inet_pton(AF_INET, target_host_.c_str(), &address.sin_addr);
  if (link->server_fd < 0 ||
      ::connect(link->server_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return;  // the link's destructor closes the client: it sees the connection refused
  }
  const int one = 1;
  ::setsockopt(link->server_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::setsockopt(link->client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (link->plan && link->plan->marker.empty()) link->target = link->plan->offset;
  links_.push_back(std::move(link));
}

bool FaultProxy::forward(Link& link, bool server_to_client) {
  char buffer[64 * 1024];
  const int from = server_to_client ? link.server_fd : link.client_fd;
  const int to = server_to_client ? link.client_fd : link.server_fd;
  const ssize_t n = ::recv(from, buffer, sizeof(buffer), 0);
  if (n <= 0) return false;
  std::size_t size = static_cast<std::size_t>(n);
  if (server_to_client) forwarded_.fetch_add(size);
  if (!server_to_client) {
    const std::lock_guard lock(captured_mutex_);
    captured_client_bytes_.append(buffer, size);
  }
  if (!server_to_client || !link.plan) return write_all(to, buffer, size);

  const FaultPlan plan = *link.plan;
  const std::uint64_t start = link.server_bytes;
  if (!link.target && !plan.marker.empty()) {
    const std::string window = link.tail + std::string(buffer, size);
    const std::size_t found = window.find(plan.marker);
    if (found != std::string::npos) {
      link.target = start - link.tail.size() + found + plan.offset;
    } else {
      const std::size_t keep = std::min(window.size(), plan.marker.size() - 1);
      link.tail = window.substr(window.size() - keep);
    }
  }
  link.server_bytes += size;
  if (link.target && *link.target >= start && *link.target < start + size) {
    const std::size_t at = static_cast<std::size_t>(*link.target - start);
    applied_.fetch_add(1);
    link.plan.reset();
    if (plan.action == FaultPlan::Action::kDrop) {
      write_all(to, buffer, at);
      return false;
    }
    buffer[at] = static_cast<char>(buffer[at] ^ 0xff);
  }
  return write_all(to, buffer, size);
}

void FaultProxy::run() {
  while (!stopping_) {
    std::vector<pollfd> fds;
    fds.push_back({wake_fds_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    const bool held = held_.load();
    for (const auto& link : links_) {
      fds.push_back({held ? -1 : link->server_fd, POLLIN, 0});  // poll() skips a negative fd
      fds.push_back({link->client_fd, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (stopping_) return;
    if (fds[0].revents & POLLIN) {
      char drained[64];
      (void)!::read(wake_fds_[0], drained, sizeof(drained));
    }
    const std::size_t polled = links_.size();
    if (fds[1].revents & POLLIN) accept_one();
    for (std::size_t i = 0; i < polled; ++i) {
      Link& link = *links_[i];
      const pollfd& server = fds[2 + 2 * i];
      const pollfd& client = fds[3 + 2 * i];
      if ((server.revents & (POLLIN | POLLHUP | POLLERR)) && !forward(link, true)) link.done = true;
      if (!link.done && (client.revents & (POLLIN | POLLHUP | POLLERR)) && !forward(link, false))
        link.done = true;
    }
    std::erase_if(links_, [](const std::unique_ptr<Link>& link) { return link->done; });
  }
}

std::string FaultProxy::client_to_server_bytes() const {
  const std::lock_guard lock(captured_mutex_);
  return captured_client_bytes_;
}

}  // namespace brelay::testing
