// A MySQL packet stream over one TCP connection, with optional TLS: the part of a connection that
// both the server session and the client share. Receiving: bytes from the socket (decrypted when
// TLS is on) go into a PacketFramer; the listener hears on_packets_available() and pulls packets
// with next_packet(). Sending: payloads are framed with the caller's sequence ids and written with
// gather writes (encrypted in batches under TLS). Back-pressure: pause_reading(), pending_bytes(),
// and on_drained() below the low-water mark.
//
// Lifetime: the owner keeps the channel until the listener hears on_closed(); the channel may be
// destroyed then, or at any time before (the socket is closed and no callback follows). Loop
// thread only.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "net/lifetime_guard.h"
#include "net/packet_batch.h"
#include "net/packet_framer.h"
#include "net/tcp_connection.h"
#include "net/tls_context.h"
#include "net/tls_session.h"

namespace brelay::net {

class PacketChannel final : private TcpConnection::Observer {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Bytes arrived; call next_packet() until it returns std::nullopt (or stop to apply back-pressure).
    virtual void on_packets_available() = 0;
    // The TLS handshake started with start_server_tls() / start_client_tls() completed.
    virtual void on_tls_established() = 0;
    // The peer closed (ok status) or the connection failed (TLS error, socket error). Still open:
    // the listener decides what to do (usually close()).
    virtual void on_channel_failed(const Status& why) = 0;
    // pending_bytes() fell to the low-water mark or below.
    virtual void on_drained() = 0;
    // The socket is closed; the channel may be destroyed from here.
    virtual void on_closed() = 0;
  };

  PacketChannel(std::unique_ptr<TcpConnection> connection, std::size_t max_payload);
  ~PacketChannel() override;
  PacketChannel(const PacketChannel&) = delete;
  PacketChannel& operator=(const PacketChannel&) = delete;

  void set_listener(Listener* listener) { listener_ = listener; }  // not owned
  void set_max_payload(std::size_t bytes) { framer_.set_max_payload(bytes); }

  // Receiving.
  Status start_reading();
  // Stops reading from the socket; packets already buffered stay available to next_packet().
  void pause_reading();
  // Reads again; does not announce packets already buffered (call next_packet()).
  Status resume_reading();
  // The next whole packet, std::nullopt when none is buffered, or a framing error (over the size
  // limit, chunks out of order) after which the connection should be closed.
  Result<std::optional<Packet>> next_packet();

  // Sending. `sequence_id` numbers the first chunk and is advanced past the last.
  Status send_packet(ByteView payload, std::uint8_t& sequence_id);
  Status send_packets(std::span<const Bytes> payloads, std::uint8_t& sequence_id);
  Status send_batch(PacketBatch& batch, std::uint8_t& sequence_id);
  std::size_t pending_bytes() const { return connection_->pending_bytes(); }
  std::uint64_t sent_bytes() const { return connection_->sent_bytes(); }
  void set_low_water_mark(std::size_t bytes) { connection_->set_low_water_mark(bytes); }
  Status limit_unsent_bytes(std::size_t bytes) { return connection_->limit_unsent_bytes(bytes); }

  // TLS. Server: call after reading the SSLRequest; bytes that followed it are the ClientHello.
  Status start_server_tls(std::shared_ptr<const TlsContext> context);
  // Client: call after sending the SSLRequest.
  Status start_client_tls(const std::shared_ptr<const TlsContext>& context, const std::string& host);
  bool tls_active() const { return tls_ != nullptr; }
  bool tls_established() const { return tls_ != nullptr && tls_->handshake_done(); }
  std::string tls_version() const { return tls_ ? tls_->version() : std::string(); }
  std::string tls_cipher() const { return tls_ ? tls_->cipher() : std::string(); }

  // Closes now, dropping unsent bytes. Idempotent.
  void close();
  // Sends what is pending (and a TLS close_notify), then closes.
  void close_after_flush();
  bool closing() const { return connection_->is_closing(); }

  const std::string& peer_address() const { return connection_->peer_address(); }
  const std::string& peer_host() const { return connection_->peer_host(); }

 private:
  std::span<std::uint8_t> read_buffer() override;
  void on_read(ByteView bytes) override;
  void on_read_end(const Status& status) override;
  void on_drained() override;
  void on_write_error(const Error& error) override;
  void on_closed() override;

  Status write_buffers(std::span<const uv_buf_t> buffers);
  Status flush_tls_output();

  std::unique_ptr<TcpConnection> connection_;
  Listener* listener_ = nullptr;
  PacketFramer framer_;
  std::unique_ptr<TlsSession> tls_;
  Bytes plaintext_;    // decrypted input, before the framer
  Bytes tls_pending_;  // small plaintext pieces gathered for one SSL_write
  Bytes frame_scratch_;
  std::size_t read_size_;                   // adapts to how much each read brings
  const std::uint8_t* prepared_ = nullptr;  // the space read_buffer() last handed out
  bool paused_ = false;
  bool failed_ = false;  // on_channel_failed() was called
  LifetimeGuard lifetime_;
};

}  // namespace brelay::net
