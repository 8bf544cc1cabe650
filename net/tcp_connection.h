// One TCP connection on the loop: reads into an owned buffer and hands the bytes to an Observer;
// writes a gather list with uv_try_write (writev) straight from the caller's memory and copies only
// what the kernel did not take, sending that as the socket drains. pending_bytes() and the
// low-water mark give callers back-pressure.
//
// Lifetime: the uv_tcp_t, its requests and the copied bytes live in a heap block that the uv_close
// callback frees. The TcpConnection object may be destroyed at any time (it closes the socket and
// detaches); after close() the observer gets on_closed() once, and nothing after it. Loop thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include <uv.h>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::net {

class TcpConnection {
 public:
  class Observer {
   public:
    virtual ~Observer() = default;
    // Where to receive the next bytes (to read straight into the observer's buffer); an empty span
    // means the connection's own buffer. Called before each read.
    virtual std::span<std::uint8_t> read_buffer() { return {}; }
    // Bytes received (into read_buffer() or the connection's own buffer); only valid during the call.
    virtual void on_read(ByteView bytes) = 0;
    // The peer closed its side (ok status) or reading failed. The connection stays open until close().
    virtual void on_read_end(const Status& status) = 0;
    // pending_bytes() dropped to the low-water mark or below after having been above it.
    virtual void on_drained() = 0;
    // A queued write failed; the connection is useless and should be closed.
    virtual void on_write_error(const Error& error) = 0;
    // The socket is closed (after close()); the observer may destroy the connection from here.
    virtual void on_closed() = 0;
  };

  // Accepts a pending connection on a listening handle (call from its connection callback).
  static Result<std::unique_ptr<TcpConnection>> accept(uv_stream_t* listener);
  // Starts connecting to `address`; `done` runs once with the outcome unless the connection is
  // closed or destroyed first. An error here means the attempt could not even start.
  static Result<std::unique_ptr<TcpConnection>> connect(uv_loop_t* loop, const sockaddr* address,
                                                        std::function<void(Status)> done);

  ~TcpConnection();
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  void set_observer(Observer* observer) { observer_ = observer; }  // not owned

  Status start_reading();
  void stop_reading();

  // Writes the buffers in order after anything still pending. What the kernel does not take at once
  // is copied, so the caller's memory is free again when this returns. An error means the socket
  // is broken (the caller should close).
  Status write(std::span<const uv_buf_t> buffers);
  Status write(ByteView bytes);

  // Bytes accepted by write() and not yet handed to the kernel.
  std::size_t pending_bytes() const;
  // Bytes the kernel has taken so far (offered to write() less those still pending): a reader that
  // reads nothing leaves it unchanged.
  std::uint64_t sent_bytes() const { return offered_bytes_ - pending_bytes(); }
  // on_drained() fires when pending_bytes() falls to `bytes` or below after having been above it.
  void set_low_water_mark(std::size_t bytes) { low_water_mark_ = bytes; }

  // Lets the kernel hold at most about `bytes` that the peer's receive window has no room for yet
  // (TCP_NOTSENT_LOWAT); what write() offers beyond that stays pending here. For a sender that can
  // produce faster than its peer consumes: with a deep unsent queue, the peer's acknowledgements
  // push this side's segments through the loopback in the *peer's* context, costing the reader's
  // CPU (see relay/downstream/dump_session.h). 0 restores the system's default (net.ipv4.
  // tcp_notsent_lowat, normally no limit). An error means the option could not be set.
  Status limit_unsent_bytes(std::size_t bytes);

  // Closes now; pending bytes are dropped. Idempotent.
  void close();
  // Ends the connection gracefully: sends every pending byte, shuts the sending side down, drops
  // whatever the peer still sends, and closes when the peer closes or after `linger` at most
  // (close() ends it at once). Nothing reaches the observer but on_closed() afterwards.
  void close_after_flush(std::chrono::milliseconds linger = std::chrono::milliseconds(5000));
  bool is_closing() const { return closing_; }

  // "127.0.0.1:52012" and "127.0.0.1" of the peer; empty when unknown.
  const std::string& peer_address() const { return peer_address_; }
  const std::string& peer_host() const { return peer_host_; }

 private:
  struct Handle;
  explicit TcpConnection(Handle* handle);

  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buffer);
  static void on_read_callback(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer);
  static void on_write_done(uv_write_t* request, int status);
  static void on_connect_done(uv_connect_t* request, int status);
  static void on_close_done(uv_handle_t* handle);

  Status start_queued_write();
  void check_drained();
  void shutdown_writing();
  void close_handles();
  void remember_peer();

  Handle* handle_;  // owned until uv_close; freed by the close callback
  Observer* observer_ = nullptr;
  bool reading_ = false;
  bool closing_ = false;
  bool lingering_ = false;  // close_after_flush() was called
  bool shutdown_started_ = false;
  std::uint64_t offered_bytes_ = 0;  // every byte write() accepted
  bool above_low_water_ = false;
  std::size_t low_water_mark_ = 0;
  std::string peer_address_;
  std::string peer_host_;
};

}  // namespace brelay::net
