// The MySQL packet layer: every packet is a 3-byte little-endian payload length, a 1-byte sequence
// id, then the payload. A payload of 0xffffff bytes or more is split into 0xffffff-byte chunks with
// consecutive sequence ids, ended by a shorter chunk (possibly empty).
//
// PacketFramer is the receiving half: bytes go in as they arrive, whole (joined) payloads come out.
// It never trusts a length: a header only decides how many bytes to wait for, nothing is reserved
// from it, and a payload over the configured limit is an error as soon as its header is seen.
// It does no I/O and is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::net {

inline constexpr std::size_t kPacketHeaderSize = 4;

// A received packet. `payload` borrows the framer's memory: it stays valid until the next call to
// PacketFramer::append(), prepare(), next() or take_buffered().
struct Packet {
  std::uint8_t sequence_id = 0;       // of the first chunk
  std::uint8_t last_sequence_id = 0;  // of the last chunk; a reply continues from last_sequence_id + 1
  ByteView payload;
};

class PacketFramer {
 public:
  explicit PacketFramer(std::size_t max_payload) : max_payload_(max_payload) {}

  // The largest payload (joined) accepted from now on.
  void set_max_payload(std::size_t max_payload) { max_payload_ = max_payload; }
  std::size_t max_payload() const { return max_payload_; }

  PacketFramer(const PacketFramer&) = delete;
  PacketFramer& operator=(const PacketFramer&) = delete;

  void append(ByteView bytes);
  // Room for at least `size` more bytes at the end of the buffer, to receive into directly;
  // commit() then adds the bytes written there. Nothing is zero-filled.
  std::span<std::uint8_t> prepare(std::size_t size);
  void commit(std::size_t size);

  // The next complete packet, std::nullopt while more bytes are needed, or an error when the
  // stream is broken (a payload over the limit, chunks whose sequence ids do not follow each other).
  // After an error the framer must not be used again.
  Result<std::optional<Packet>> next();

  // Bytes received but not yet returned as packets (those that arrived after an SSLRequest belong
  // to the TLS handshake); the framer is empty afterwards.
  Bytes take_buffered();
  std::size_t buffered() const { return end_ - begin_; }
  // Bytes of memory held (for tests of memory use).
  std::size_t capacity() const { return capacity_; }

 private:
  // Makes room for `size` more bytes after end_, moving unread bytes to the front or growing.
  void reserve_tail(std::size_t size);

  std::size_t max_payload_;
  struct FreeBuffer {
    void operator()(std::uint8_t* buffer) const { std::free(buffer); }
  };
  std::unique_ptr<std::uint8_t, FreeBuffer> buffer_;  // malloc()ed, to grow with realloc()
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;  // first unread byte
  std::size_t end_ = 0;    // one past the last received byte
  Bytes joined_;           // the last multi-chunk payload
};

// Writes a packet header for a chunk of `length` (< 2^24) bytes.
void write_packet_header(std::uint8_t* out, std::uint32_t length, std::uint8_t sequence_id);

// Appends `payload` framed as one or more packets to `out`, starting at `sequence_id`, which is
// advanced past the last chunk written.
void append_packet(Bytes& out, ByteView payload, std::uint8_t& sequence_id);
Bytes encode_packet(ByteView payload, std::uint8_t& sequence_id);

// The number of chunks (headers) a payload of `size` bytes needs.
inline std::size_t packet_chunk_count(std::size_t size) {
  return size / 0xffffff + 1;
}

}  // namespace brelay::net
