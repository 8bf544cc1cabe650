// PacketFramer and the packet encoders: round trips, 16 MiB splitting and joining (including a
// payload of exactly 0xffffff bytes, which needs an empty final chunk), input cut at every byte,
// size limits checked from the header, chunk order, and no allocation from unvalidated lengths.
#include "net/packet_framer.h"

#include <gtest/gtest.h>

#include "net/mysql_constants.h"

namespace brelay::net {
namespace {

Bytes pattern(std::size_t size, std::uint8_t seed = 1) {
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<std::uint8_t>(seed + i * 31);
  return bytes;
}

TEST(PacketFramer, RoundTripsPacketsFedByteByByte) {
  std::uint8_t sequence_id = 0;
  Bytes wire;
  const std::vector<Bytes> payloads = {pattern(0), pattern(1), pattern(250), pattern(70000, 9)};
  for (const Bytes& payload : payloads)
    append_packet(wire, payload, sequence_id);
  EXPECT_EQ(sequence_id, 4);
  PacketFramer framer(1 << 20);
  std::vector<Bytes> got;
  std::vector<std::uint8_t> ids;
  for (std::uint8_t byte : wire) {
    framer.append(ByteView(&byte, 1));
    while (true) {
      auto next = framer.next();
      ASSERT_TRUE(next) << next.error().message();
      if (!*next) break;
      got.emplace_back((*next)->payload.begin(), (*next)->payload.end());
      ids.push_back((*next)->sequence_id);
    }
  }
  EXPECT_EQ(got, payloads);
  EXPECT_EQ(ids, (std::vector<std::uint8_t>{0, 1, 2, 3}));
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(PacketFramer, SplitsAndJoinsAt16MiB) {
  for (std::size_t size :
       {std::size_t{kMaxPacketChunk - 1}, std::size_t{kMaxPacketChunk}, std::size_t{kMaxPacketChunk + 1},
        std::size_t{2 * kMaxPacketChunk}, std::size_t{2 * kMaxPacketChunk + 100}}) {
    const Bytes payload = pattern(size, static_cast<std::uint8_t>(size));
    std::uint8_t sequence_id = 250;  // wraps past 255
    const Bytes wire = encode_packet(payload, sequence_id);
    const std::size_t chunks = size / kMaxPacketChunk + 1;
    EXPECT_EQ(chunks, packet_chunk_count(size));
    EXPECT_EQ(wire.size(), size + 4 * chunks) << size;
    EXPECT_EQ(sequence_id, static_cast<std::uint8_t>(250 + chunks));
    if (size % kMaxPacketChunk == 0) {
      // The last chunk is an empty packet.
      EXPECT_EQ(wire[wire.size() - 4], 0);
      EXPECT_EQ(wire[wire.size() - 3], 0);
      EXPECT_EQ(wire[wire.size() - 2], 0);
    }
    PacketFramer framer(3 * kMaxPacketChunk);
    // In uneven pieces.
    for (std::size_t offset = 0; offset < wire.size(); offset += 1'000'003)
      framer.append(ByteView(wire).subspan(offset, std::min<std::size_t>(1'000'003, wire.size() - offset)));
    auto next = framer.next();
    ASSERT_TRUE(next) << next.error().message();
    ASSERT_TRUE(next->has_value()) << size;
    EXPECT_EQ((*next)->sequence_id, 250);
    EXPECT_EQ((*next)->last_sequence_id, static_cast<std::uint8_t>(250 + chunks - 1));
    ASSERT_EQ((*next)->payload.size(), size);
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), (*next)->payload.begin()));
    auto after = framer.next();
    ASSERT_TRUE(after);
    EXPECT_FALSE(after->has_value());
  }
}

TEST(PacketFramer, EveryCutBeforeTheEndWaitsForMore) {
  std::uint8_t sequence_id = 3;
  const Bytes wire = encode_packet(pattern(40), sequence_id);
  for (std::size_t cut = 0; cut < wire.size(); ++cut) {
    PacketFramer framer(1024);
    framer.append(ByteView(wire).first(cut));
    auto next = framer.next();
    ASSERT_TRUE(next) << next.error().message();
    EXPECT_FALSE(next->has_value()) << "cut at " << cut;
    framer.append(ByteView(wire).subspan(cut));
    next = framer.next();
    ASSERT_TRUE(next && next->has_value()) << "cut at " << cut;
    EXPECT_EQ((*next)->payload.size(), 40u);
  }
}

TEST(PacketFramer, RefusesOversizedPacketsFromTheHeaderAlone) {
  PacketFramer framer(64 * 1024);
  const Bytes header = {0x01, 0x00, 0x01, 0x01};  // 65537 bytes announced, none sent
  framer.append(header);
  auto next = framer.next();
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), error_code::kNetPacketTooLarge);
  EXPECT_NE(next.error().message().find("65537"), std::string::npos) << next.error().message();
}

TEST(PacketFramer, RefusesMultiChunkPacketsOverTheLimitEarly) {
  PacketFramer framer(kMaxPacketChunk + 10);
  // A full first chunk, then the header of a second chunk that crosses the limit.
  Bytes wire = {0xff, 0xff, 0xff, 0x00};
  const Bytes body = pattern(kMaxPacketChunk);
  wire.insert(wire.end(), body.begin(), body.end());
  wire.insert(wire.end(), {0x20, 0x00, 0x00, 0x01});
  framer.append(wire);
  auto next = framer.next();
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), error_code::kNetPacketTooLarge);
}

TEST(PacketFramer, ChunksOutOfOrderAreAnError) {
  Bytes wire = {0xff, 0xff, 0xff, 0x05};
  const Bytes body = pattern(kMaxPacketChunk);
  wire.insert(wire.end(), body.begin(), body.end());
  wire.insert(wire.end(), {0x01, 0x00, 0x00, 0x09, 0x42});
  PacketFramer framer(4 * kMaxPacketChunk);
  framer.append(wire);
  auto next = framer.next();
  ASSERT_FALSE(next);
  EXPECT_NE(next.error().message().find("out of order"), std::string::npos) << next.error().message();
}

TEST(PacketFramer, BuffersOnlyWhatArrived) {
  PacketFramer framer(1 << 30);
  framer.append(Bytes{0xff, 0xff, 0xff, 0x00, 0x01, 0x02});  // announces 16 MiB, 2 bytes arrive
  auto next = framer.next();
  ASSERT_TRUE(next);
  EXPECT_FALSE(next->has_value());
  EXPECT_EQ(framer.buffered(), 6u);
}

TEST(PacketFramer, TakeBufferedReturnsBytesAfterTheLastPacket) {
  std::uint8_t sequence_id = 1;
  Bytes wire = encode_packet(pattern(32), sequence_id);
  const Bytes tail = {0x16, 0x03, 0x01, 0x02, 0x00};  // the start of a TLS ClientHello
  wire.insert(wire.end(), tail.begin(), tail.end());
  PacketFramer framer(1024);
  framer.append(wire);
  auto next = framer.next();
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ(framer.take_buffered(), tail);
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(PacketFramer, APacketNearTheLimitDoesNotDoubleTheBuffer) {
  // Received the way a channel receives: 256 KiB reads into prepare()d space.
  const std::size_t limit = 8 * 1024 * 1024;
  PacketFramer framer(limit);
  std::uint8_t sequence_id = 0;
  const Bytes wire = encode_packet(pattern(limit - 10), sequence_id);
  std::size_t fed = 0;
  while (fed < wire.size()) {
    const std::size_t read = std::min<std::size_t>(256 * 1024, wire.size() - fed);
    auto space = framer.prepare(read);
    std::copy_n(wire.begin() + static_cast<std::ptrdiff_t>(fed), read, space.begin());
    framer.commit(read);
    fed += read;
  }
  auto next = framer.next();
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->payload.size(), limit - 10);
  EXPECT_LE(framer.capacity(), limit + kPacketHeaderSize + 256 * 1024);
}

TEST(PacketFramer, LetsItsMemoryGoWhenAPacketIsOverTheLimit) {
  // Four full chunks are within a limit of 64 MiB; the fifth chunk's header crosses it.
  const std::size_t limit = 4 * kMaxPacketChunk + 100;
  PacketFramer framer(limit);
  Bytes chunk(kPacketHeaderSize + kMaxPacketChunk, 0x28);
  for (std::uint8_t id = 0; id < 4; ++id) {
    write_packet_header(chunk.data(), kMaxPacketChunk, id);
    framer.append(chunk);
    auto next = framer.next();
    ASSERT_TRUE(next);
    EXPECT_FALSE(next->has_value());
  }
  EXPECT_GE(framer.capacity(), 4 * kMaxPacketChunk);
  const Bytes header = {0xff, 0xff, 0xff, 0x04};
  framer.append(header);
  auto next = framer.next();
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), error_code::kNetPacketTooLarge);
  EXPECT_EQ(framer.capacity(), 0u);
  EXPECT_EQ(framer.buffered(), 0u);
}

}  // namespace
}  // namespace brelay::net
