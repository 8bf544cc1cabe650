// A listening TCP socket on the loop ("host:port" with an IP literal, IPv4 or IPv6; port 0 picks a
// free one). Each accepted connection goes to the accept callback. The uv_tcp_t lives in a heap
// block freed by its close callback, so the listener may be destroyed at any time. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <uv.h>

#include "common/result.h"
#include "net/tcp_connection.h"

namespace brelay::net {

class TcpListener {
 public:
  using AcceptCallback = std::function<void(std::unique_ptr<TcpConnection>)>;

  static Result<std::unique_ptr<TcpListener>> listen(uv_loop_t* loop, std::string_view host_port,
                                                     AcceptCallback on_accept, int backlog = 511);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // The bound port (the chosen one when listening on port 0) and "host:port".
  std::uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }

 private:
  struct Handle;
  explicit TcpListener(Handle* handle);
  static void on_connection(uv_stream_t* server, int status);

  Handle* handle_;  // owned until uv_close; freed by the close callback
  AcceptCallback on_accept_;
  std::uint16_t port_ = 0;
  std::string address_;
};

}  // namespace brelay::net
