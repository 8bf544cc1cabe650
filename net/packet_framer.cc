#include "net/packet_framer.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "net/mysql_constants.h"

namespace brelay::net {
namespace {

// An empty buffer this much larger than what is asked for is given back rather than kept.
constexpr std::size_t kKeptCapacity = 256 * 1024;

std::uint32_t read_u24(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16);
}

}  // namespace

void PacketFramer::reserve_tail(std::size_t size) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (capacity_ > kKeptCapacity && capacity_ > 2 * size) {
      buffer_.reset();
      capacity_ = 0;
    }
    if (joined_.capacity() > kKeptCapacity) Bytes().swap(joined_);
  }
  if (capacity_ - end_ >= size) return;
  const std::size_t unread = end_ - begin_;
  if (begin_ > 0) std::memmove(buffer_.get(), buffer_.get() + begin_, unread);
  if (capacity_ - unread < size) {
    // Doubling, but never past what the largest acceptable packet (with its chunk headers) and this
    // read need. realloc() moves a large buffer's pages (mremap) instead of holding the old and the
    // new copy at once: a packet near max_allowed_packet costs about its size, not two or three.
    const std::size_t largest_packet = max_payload_ + kPacketHeaderSize * packet_chunk_count(max_payload_);
    const std::size_t grown = std::max(std::min(capacity_ * 2, largest_packet + size), unread + size);
    void* bigger = std::realloc(buffer_.get(), grown);
    if (bigger == nullptr) throw std::bad_alloc();  // as operator new would
    (void)buffer_.release();
    buffer_.reset(static_cast<std::uint8_t*>(bigger));
    capacity_ = grown;
  }
  begin_ = 0;
  end_ = unread;
}

void PacketFramer::append(ByteView bytes) {
  if (bytes.empty()) return;
  reserve_tail(bytes.size());
  std::memcpy(buffer_.get() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
}

std::span<std::uint8_t> PacketFramer::prepare(std::size_t size) {
  reserve_tail(size);
  return std::span<std::uint8_t>(buffer_.get() + end_, capacity_ - end_);
}

void PacketFramer::commit(std::size_t size) {
  end_ += std::min(size, capacity_ - end_);
}

Result<std::optional<Packet>> PacketFramer::next() {
  const std::uint8_t* data = buffer_.get();
  const std::size_t end = end_;
  std::size_t position = begin_;
  std::size_t total = 0;
  std::size_t chunks = 0;
  Packet packet;
  while (true) {
    if (end - position < kPacketHeaderSize) return std::optional<Packet>();
    const std::uint32_t length = read_u24(data + position);
    const std::uint8_t sequence_id = data[position + 3];
    if (chunks == 0) {
      packet.sequence_id = sequence_id;
    } else if (sequence_id != static_cast<std::uint8_t>(packet.last_sequence_id + 1)) {
      return make_error("packets out of order: chunk {} of a large packet has sequence id {}, expected {}",
                        chunks + 1, sequence_id, static_cast<std::uint8_t>(packet.last_sequence_id + 1));
    }
    packet.last_sequence_id = sequence_id;
    total += length;
    if (total > max_payload_) {
      // The framer is done: what it holds is let go at once rather than with the connection.
      buffer_.reset();
      capacity_ = begin_ = end_ = 0;
      Bytes().swap(joined_);
      return make_error_code(error_code::kNetPacketTooLarge,
                             "packet of at least {} bytes is larger than the limit of {} bytes", total,
                             max_payload_);
    }
    ++chunks;
    if (end - position - kPacketHeaderSize < length) return std::optional<Packet>();
    position += kPacketHeaderSize + length;
    if (length < kMaxPacketChunk) break;
  }

  if (chunks == 1) {
    packet.payload = ByteView(data + begin_ + kPacketHeaderSize, total);
  } else {
    joined_.clear();
    joined_.reserve(total);
    std::size_t chunk = begin_;
    while (chunk < position) {
      const std::uint32_t length = read_u24(data + chunk);
      joined_.insert(joined_.end(), data + chunk + kPacketHeaderSize,
                     data + chunk + kPacketHeaderSize + length);
      chunk += kPacketHeaderSize + length;
    }
    packet.payload = joined_;
  }
  begin_ = position;
  return std::optional<Packet>(packet);
}

Bytes PacketFramer::take_buffered() {
  Bytes rest(buffer_.get() + begin_, buffer_.get() + end_);
  begin_ = end_ = 0;
  return rest;
}

void write_packet_header(std::uint8_t* out, std::uint32_t length, std::uint8_t sequence_id) {
  out[0] = static_cast<std::uint8_t>(length);
  out[1] = static_cast<std::uint8_t>(length >> 8);
  out[2] = static_cast<std::uint8_t>(length >> 16);
  out[3] = sequence_id;
}

void append_packet(Bytes& out, ByteView payload, std::uint8_t& sequence_id) {
  std::size_t offset = 0;
  while (true) {
    const std::size_t chunk = std::min<std::size_t>(payload.size() - offset, kMaxPacketChunk);
    std::uint8_t header[kPacketHeaderSize];
    write_packet_header(header, static_cast<std::uint32_t>(chunk), sequence_id++);
    out.insert(out.end(), header, header + kPacketHeaderSize);
    out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(offset),
               payload.begin() + static_cast<std::ptrdiff_t>(offset + chunk));
    offset += chunk;
    if (chunk < kMaxPacketChunk) break;
  }
}

Bytes encode_packet(ByteView payload, std::uint8_t& sequence_id) {
  Bytes out;
  out.reserve(payload.size() + kPacketHeaderSize * packet_chunk_count(payload.size()));
  append_packet(out, payload, sequence_id);
  return out;
}

}  // namespace brelay::net
