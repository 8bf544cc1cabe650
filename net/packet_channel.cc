#include "net/packet_channel.h"

namespace brelay::net {
namespace {

// Plaintext gathered before one SSL_write (a few full TLS records).
constexpr std::size_t kTlsWriteBatch = 64 * 1024;
// Reads go straight into the framer: small while the peer sends little (an idle session holds
// little memory), doubling while each read fills the space (a stream: fewer, larger reads).
constexpr std::size_t kMinReadSize = 16 * 1024;
constexpr std::size_t kMaxReadSize = 256 * 1024;

}  // namespace

PacketChannel::PacketChannel(std::unique_ptr<TcpConnection> connection, std::size_t max_payload)
    : connection_(std::move(connection)), framer_(max_payload), read_size_(kMinReadSize) {
  connection_->set_observer(this);
}

PacketChannel::~PacketChannel() {
  connection_->set_observer(nullptr);
}

Status PacketChannel::start_reading() {
  paused_ = false;
  return connection_->start_reading();
}

void PacketChannel::pause_reading() {
  paused_ = true;
  connection_->stop_reading();
}

Status PacketChannel::resume_reading() {
  if (!paused_) return {};
  paused_ = false;
  if (failed_ || connection_->is_closing()) return {};
  return connection_->start_reading();
}

Result<std::optional<Packet>> PacketChannel::next_packet() {
  return framer_.next();
}

std::span<std::uint8_t> PacketChannel::read_buffer() {
  if (tls_) return {};  // ciphertext goes to the connection's buffer, plaintext is appended
  const std::span<std::uint8_t> space = framer_.prepare(read_size_);
  prepared_ = space.data();
  return space;
}

void PacketChannel::on_read(ByteView bytes) {
  if (tls_) {
    plaintext_.clear();
    const bool was_established = tls_->handshake_done();
    Status received = tls_->receive(bytes, plaintext_);
    Status flushed = flush_tls_output();
    if (!received || !flushed) {
      failed_ = true;
      connection_->stop_reading();
      if (listener_ != nullptr) listener_->on_channel_failed(!received ? received : flushed);
      return;
    }
    if (!was_established && tls_->handshake_done() && listener_ != nullptr) {
      auto watch = lifetime_.watch();
      listener_->on_tls_established();
      if (watch.expired() || connection_->is_closing()) return;
    }
    framer_.append(plaintext_);
    if (tls_->peer_closed()) {
      auto watch = lifetime_.watch();
      if (listener_ != nullptr && framer_.buffered() > 0) listener_->on_packets_available();
      if (watch.expired() || failed_ || connection_->is_closing()) return;
      on_read_end(Status());
      return;
    }
  } else if (bytes.data() == prepared_) {
    // Received straight into the space read_buffer() handed out.
    framer_.commit(bytes.size());
    if (bytes.size() >= read_size_)
      read_size_ = std::min(read_size_ * 2, kMaxReadSize);
    else if (bytes.size() < read_size_ / 4)
      read_size_ = std::max(read_size_ / 2, kMinReadSize);
  } else {
    framer_.append(bytes);
  }
  if (listener_ != nullptr) listener_->on_packets_available();
}

void PacketChannel::on_read_end(const Status& status) {
  if (failed_) return;
  failed_ = true;
  connection_->stop_reading();
  if (listener_ != nullptr) listener_->on_channel_failed(status);
}

void PacketChannel::on_drained() {
  if (listener_ != nullptr) listener_->on_drained();
}

void PacketChannel::on_write_error(const Error& error) {
  if (failed_) return;
  failed_ = true;
  if (listener_ != nullptr) listener_->on_channel_failed(error);
}

void PacketChannel::on_closed() {
  if (listener_ != nullptr) listener_->on_closed();
}

Status PacketChannel::send_packet(ByteView payload, std::uint8_t& sequence_id) {
  frame_scratch_.clear();
  append_packet(frame_scratch_, payload, sequence_id);
  uv_buf_t buffer = uv_buf_init(reinterpret_cast<char*>(frame_scratch_.data()),
                                static_cast<unsigned>(frame_scratch_.size()));
  return write_buffers(std::span<const uv_buf_t>(&buffer, 1));
}

Status PacketChannel::send_packets(std::span<const Bytes> payloads, std::uint8_t& sequence_id) {
  frame_scratch_.clear();
  for (const Bytes& payload : payloads)
    append_packet(frame_scratch_, payload, sequence_id);
  uv_buf_t buffer = uv_buf_init(reinterpret_cast<char*>(frame_scratch_.data()),
                                static_cast<unsigned>(frame_scratch_.size()));
  return write_buffers(std::span<const uv_buf_t>(&buffer, 1));
}

Status PacketChannel::send_batch(PacketBatch& batch, std::uint8_t& sequence_id) {
  return write_buffers(batch.layout(sequence_id));
}

Status PacketChannel::write_buffers(std::span<const uv_buf_t> buffers) {
  if (connection_->is_closing()) return make_error("the connection is closed");
  if (!tls_) return connection_->write(buffers);
  if (!tls_->handshake_done()) return make_error("sending before the TLS handshake finished");
  tls_pending_.clear();
  for (const uv_buf_t& buffer : buffers) {
    ByteView piece(reinterpret_cast<const std::uint8_t*>(buffer.base), buffer.len);
    if (piece.size() >= kTlsWriteBatch) {
      if (!tls_pending_.empty()) {
        BRELAY_TRY(tls_->send(tls_pending_));
        tls_pending_.clear();
      }
      BRELAY_TRY(tls_->send(piece));
    } else {
      tls_pending_.insert(tls_pending_.end(), piece.begin(), piece.end());
      if (tls_pending_.size() >= kTlsWriteBatch) {
        BRELAY_TRY(tls_->send(tls_pending_));
        tls_pending_.clear();
      }
    }
  }
  if (!tls_pending_.empty()) BRELAY_TRY(tls_->send(tls_pending_));
  tls_pending_.clear();
  return flush_tls_output();
}

Status PacketChannel::flush_tls_output() {
  ByteView output = tls_->output();
  if (output.empty()) return {};
  Status written = connection_->write(output);
  tls_->consume_output();
  return written;
}

Status PacketChannel::start_server_tls(std::shared_ptr<const TlsContext> context) {
  BRELAY_ASSIGN_OR_RETURN(tls_, TlsSession::server(std::move(context)));
  Bytes early = framer_.take_buffered();
  if (!early.empty()) {
    plaintext_.clear();
    BRELAY_TRY(tls_->receive(early, plaintext_));
    BRELAY_TRY(flush_tls_output());
    framer_.append(plaintext_);
  }
  return {};
}

Status PacketChannel::start_client_tls(const std::shared_ptr<const TlsContext>& context,
                                       const std::string& host) {
  BRELAY_ASSIGN_OR_RETURN(tls_, TlsSession::client(context, host));
  BRELAY_TRY(tls_->start());
  return flush_tls_output();
}

void PacketChannel::close() {
  connection_->close();
}

void PacketChannel::close_after_flush() {
  if (connection_->is_closing()) return;
  if (tls_ && tls_->handshake_done() && !failed_) {
    tls_->shutdown();
    (void)flush_tls_output();
  }
  connection_->close_after_flush();
}

}  // namespace brelay::net
