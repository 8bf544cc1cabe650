// A batch of packets to send with one gather write, for the binlog dump: each packet's payload is a
// short prefix (0x00, or 0x00 0xEF flag under semi-sync), copied into the batch, followed by a body
// (the raw event) that the batch only borrows until it is sent. Payloads of 16 MiB and more are
// split into chunks when the batch is sent; PacketChannel::send_batch() assigns sequence ids.
//
// Small bodies are copied next to their headers (one contiguous run instead of two iovecs per
// event); large ones go to the kernel straight from the caller's memory. A batch is reused from
// call to call (clear() keeps its capacity), so steady streaming allocates nothing per event.
// One thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <uv.h>

#include "common/bytes.h"

namespace brelay::net {

class PacketBatch {
 public:
  static constexpr std::size_t kMaxPrefixSize = 8;
  // Bodies up to this size are copied next to their header; larger ones are referenced.
  static constexpr std::size_t kCopyThreshold = 1024;

  // Adds a packet whose payload is `prefix` (at most kMaxPrefixSize bytes, copied) then `body`
  // (borrowed: it must stay valid until the batch is sent or cleared).
  void add(ByteView prefix, ByteView body);
  void add(ByteView body) { add({}, body); }

  void clear();
  bool empty() const { return packets_.empty(); }
  std::size_t packet_count() const { return packets_.size(); }
  // Payload bytes (prefixes and bodies, without packet headers).
  std::size_t payload_bytes() const { return payload_bytes_; }

  // Lays the batch out as buffers for a gather write, with chunk headers numbered from
  // `sequence_id`, which is advanced. The buffers point into the batch and the borrowed bodies:
  // valid until the batch is changed.
  std::span<const uv_buf_t> layout(std::uint8_t& sequence_id);
  // The total size of the laid out buffers (headers included).
  std::size_t wire_bytes() const { return wire_bytes_; }

 private:
  struct PendingPacket {
    std::uint8_t prefix[kMaxPrefixSize];
    std::uint8_t prefix_size;
    ByteView body;
  };
  // A piece of the layout: bytes of staging_ (offset) or a borrowed range (pointer).
  struct Piece {
    const std::uint8_t* borrowed;  // null: staging_[offset, offset + size)
    std::size_t offset;
    std::size_t size;
  };
  void stage(const std::uint8_t* data, std::size_t size);
  void borrow(const std::uint8_t* data, std::size_t size);

  std::vector<PendingPacket> packets_;
  std::size_t payload_bytes_ = 0;
  Bytes staging_;
  std::vector<Piece> pieces_;
  std::vector<uv_buf_t> buffers_;
  std::size_t wire_bytes_ = 0;
};

}  // namespace brelay::net
