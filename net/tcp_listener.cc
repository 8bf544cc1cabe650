#include "net/tcp_listener.h"

#include "net/socket_address.h"

namespace brelay::net {

struct TcpListener::Handle {
  uv_tcp_t tcp{};
  TcpListener* owner = nullptr;
};

TcpListener::TcpListener(Handle* handle) : handle_(handle) {
  handle_->owner = this;
  handle_->tcp.data = handle_;
}

TcpListener::~TcpListener() {
  handle_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->tcp),
           [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

Result<std::unique_ptr<TcpListener>> TcpListener::listen(uv_loop_t* loop, std::string_view host_port,
                                                         AcceptCallback on_accept, int backlog) {
  BRELAY_ASSIGN_OR_RETURN(auto parsed, parse_host_port(host_port));
  auto address = numeric_address(parsed.host, parsed.port);
  if (!address) {
    return make_error("cannot listen on '{}': the host must be an IP address (0.0.0.0, ::, 127.0.0.1, ...)",
                      host_port);
  }
  auto* handle = new Handle;
  if (int rc = uv_tcp_init(loop, &handle->tcp); rc != 0) {
    delete handle;
    return make_error_code(rc, "cannot listen on '{}': {}", host_port, uv_strerror(rc));
  }
  std::unique_ptr<TcpListener> listener(new TcpListener(handle));
  listener->on_accept_ = std::move(on_accept);
  const auto* sockaddr_ptr = reinterpret_cast<const sockaddr*>(&*address);
  unsigned flags = sockaddr_ptr->sa_family == AF_INET6 && parsed.host != "::" ? UV_TCP_IPV6ONLY : 0;
  if (int rc = uv_tcp_bind(&handle->tcp, sockaddr_ptr, flags); rc != 0)
    return make_error_code(rc, "cannot listen on '{}': {}", host_port, uv_strerror(rc));
  if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&handle->tcp), backlog, &TcpListener::on_connection);
      rc != 0)
    return make_error_code(rc, "cannot listen on '{}': {}", host_port, uv_strerror(rc));
  sockaddr_storage bound{};
  int length = sizeof(bound);
  uv_tcp_getsockname(&handle->tcp, reinterpret_cast<sockaddr*>(&bound), &length);
  listener->port_ = address_port(reinterpret_cast<sockaddr*>(&bound));
  listener->address_ = format_address(reinterpret_cast<sockaddr*>(&bound));
  return listener;
}

void TcpListener::on_connection(uv_stream_t* server, int status) {
  auto* handle = static_cast<Handle*>(server->data);
  TcpListener* self = handle->owner;
  if (self == nullptr || status != 0) return;
  auto connection = TcpConnection::accept(server);
  // A failed accept (out of descriptors) leaves nothing to serve; the client sees a reset.
  if (connection) self->on_accept_(std::move(*connection));
}

}  // namespace brelay::net
