// RawTcpClient: a blocking TCP connection to 127.0.0.1, optionally from a given loopback address
// (127.0.0.2, ...: so that a test's attacks come from an address of their own), that sends what it
// is told and reads until the peer closes (each read waits at most 10 s). For tests that hold
// connections open without a word, or speak HTTP or MySQL bytes by hand. One thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace brelay::testing {

class RawTcpClient {
 public:
  // Connects to 127.0.0.1:`port`; from `from` when given (connected() is false when it cannot bind).
  explicit RawTcpClient(std::uint16_t port, const std::string& from = {});
  ~RawTcpClient();
  RawTcpClient(const RawTcpClient&) = delete;
  RawTcpClient& operator=(const RawTcpClient&) = delete;

  bool connected() const { return connected_; }
  // True when every byte was sent.
  bool send(std::string_view bytes);
  // Everything until the peer closes, a read error, or 10 s without a byte.
  std::string read_all();

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace brelay::testing
