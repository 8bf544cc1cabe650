#include "net/packet_batch.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "net/mysql_constants.h"
#include "net/packet_framer.h"

namespace brelay::net {

void PacketBatch::add(ByteView prefix, ByteView body) {
  assert(prefix.size() <= kMaxPrefixSize);
  PendingPacket& packet = packets_.emplace_back();
  packet.prefix_size = static_cast<std::uint8_t>(std::min(prefix.size(), kMaxPrefixSize));
  if (packet.prefix_size > 0) std::memcpy(packet.prefix, prefix.data(), packet.prefix_size);
  packet.body = body;
  payload_bytes_ += packet.prefix_size + body.size();
}

void PacketBatch::clear() {
  packets_.clear();
  payload_bytes_ = 0;
  staging_.clear();
  pieces_.clear();
  buffers_.clear();
  wire_bytes_ = 0;
}

void PacketBatch::stage(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  if (!pieces_.empty() && pieces_.back().borrowed == nullptr) {
    pieces_.back().size += size;
  } else {
    pieces_.push_back({nullptr, staging_.size(), size});
  }
  staging_.insert(staging_.end(), data, data + size);
}

void PacketBatch::borrow(const std::uint8_t* data, std::size_t size) {
  if (size > 0) pieces_.push_back({data, 0, size});
}

std::span<const uv_buf_t> PacketBatch::layout(std::uint8_t& sequence_id) {
  staging_.clear();
  pieces_.clear();
  buffers_.clear();
  wire_bytes_ = 0;
  for (const PendingPacket& packet : packets_) {
    const std::size_t payload = packet.prefix_size + packet.body.size();
    const bool copy_body = packet.body.size() <= kCopyThreshold;
    std::size_t done = 0;  // payload bytes laid out
    while (true) {
      const std::size_t chunk = std::min<std::size_t>(payload - done, kMaxPacketChunk);
      std::uint8_t header[kPacketHeaderSize];
      write_packet_header(header, static_cast<std::uint32_t>(chunk), sequence_id++);
      stage(header, kPacketHeaderSize);
      std::size_t chunk_left = chunk;
      if (done < packet.prefix_size) {
        const std::size_t n = std::min(chunk_left, packet.prefix_size - done);
        stage(packet.prefix + done, n);
        done += n;
        chunk_left -= n;
      }
      if (chunk_left > 0) {
        const std::uint8_t* data = packet.body.data() + (done - packet.prefix_size);
        if (copy_body)
          stage(data, chunk_left);
        else
          borrow(data, chunk_left);
        done += chunk_left;
      }
      wire_bytes_ += kPacketHeaderSize + chunk;
      if (chunk < kMaxPacketChunk) break;
    }
  }
  buffers_.reserve(pieces_.size());
  for (const Piece& piece : pieces_) {
    const std::uint8_t* data = piece.borrowed != nullptr ? piece.borrowed : staging_.data() + piece.offset;
    buffers_.push_back(uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data)),
                                   static_cast<unsigned>(piece.size)));
  }
  return buffers_;
}

}  // namespace brelay::net
