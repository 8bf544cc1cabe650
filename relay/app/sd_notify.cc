#include "relay/app/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace brelay::relay {

Status sd_notify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') return {};
  const std::string_view socket_path(path);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path) || (socket_path[0] != '/' && socket_path[0] != '@')) {
    return make_error("NOTIFY_SOCKET '{}' is not a usable socket path", socket_path);
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
  const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("sd_notify: socket: {}", std::strerror(errno));
  // Never block the loop: a receiver that does not read (its queue holds few datagrams) costs the
  // notification, not the relay.
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                                reinterpret_cast<const sockaddr*>(&address), length);
  const int send_errno = errno;
  ::close(fd);
  if (sent < 0 && (send_errno == EAGAIN || send_errno == EWOULDBLOCK)) {
    return make_error_code(EAGAIN, "sd_notify to {}: the receiver's queue is full; notification dropped",
                           socket_path);
  }
  if (sent < 0) return make_error("sd_notify to {}: {}", socket_path, std::strerror(send_errno));
  return {};
}

}  // namespace brelay::relay
