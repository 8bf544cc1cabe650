// FaultProxy: a TCP proxy a test starts on a free loopback port between a client (the relay) and a
// server (the source), which damages the server-to-client byte stream of chosen connections: it
// flips one byte (XOR 0xFF) or drops the connection at a chosen offset. The offset counts from the
// stream's first byte, or from the first occurrence of a marker (a string the test wrote into the
// source's data, so that the damage lands inside a known event whatever came before it). Each plan
// applies to one connection (the n-th accepted); every other connection passes untouched.
//
// The proxy can also hold the server-to-client direction of every connection (it stops reading from
// the server, so the server's socket fills and its sender stalls, as a client that stops reading
// would make it), with a small locked receive buffer towards the server so that how far the server
// gets before it stalls does not depend on the kernel's buffer tuning.
//
// The proxy runs on its own thread with blocking sockets and poll(); the destructor stops it and
// closes every socket. Loopback only. It also keeps a copy of the client-to-server bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace brelay::testing {

struct FaultPlan {
  enum class Action { kFlipByte, kDrop };
  Action action = Action::kFlipByte;
  std::size_t connection = 0;  // the accepted connection it applies to, counting from 0
  std::string marker;          // empty: count from the stream's start
  std::uint64_t offset = 0;    // bytes after the marker's first byte (or the stream's start)
};

class FaultProxy {
 public:
  // Listens on 127.0.0.1 (a free port) and forwards to target_host:target_port.
  static Result<std::unique_ptr<FaultProxy>> start(std::string target_host, std::uint16_t target_port,
                                                   std::vector<FaultPlan> plans);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::uint16_t port() const { return port_; }
  std::size_t connections_accepted() const { return accepted_.load(); }
  std::size_t faults_applied() const { return applied_.load(); }
  // Every byte any client sent through the proxy so far, connections one after the other (for tests
  // that check what went over the wire, e.g. that no password travelled in clear).
  std::string client_to_server_bytes() const;
  // Server-to-client bytes forwarded so far, all connections.
  std::uint64_t server_bytes_forwarded() const { return forwarded_.load(); }
  // The receive buffer (SO_RCVBUF, locked) of the sockets towards the server of later connections;
  // 0 leaves the kernel's autotuning.
  void set_server_receive_buffer(int bytes) { server_receive_buffer_ = bytes; }
  // Stops (true) or resumes (false) forwarding server-to-client bytes on every connection.
  void hold_server_to_client(bool hold);

 private:
  struct Link;
  FaultProxy() = default;
  void run();
  void accept_one();
  // Forwards what `from` has; false when the link is finished.
  bool forward(Link& link, bool server_to_client);

  std::string target_host_;
  std::uint16_t target_port_ = 0;
  std::vector<FaultPlan> plans_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::vector<std::unique_ptr<Link>> links_;  // proxy thread only
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> applied_{0};
  std::atomic<std::uint64_t> forwarded_{0};
  std::atomic<int> server_receive_buffer_{0};
  std::atomic<bool> held_{false};
  std::atomic<bool> stopping_{false};
  mutable std::mutex captured_mutex_;
  std::string captured_client_bytes_;  // guarded by captured_mutex_
  std::thread thread_;
};

}  // namespace brelay::testing
