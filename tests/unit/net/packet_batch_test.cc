// PacketBatch lays packets out for one gather write: headers with consecutive sequence ids,
// prefixes copied, small bodies copied, large bodies referenced, 16 MiB splitting.
#include "net/packet_batch.h"

#include <gtest/gtest.h>

#include "net/mysql_constants.h"
#include "net/packet_framer.h"

namespace brelay::net {
namespace {

Bytes flatten(std::span<const uv_buf_t> buffers) {
  Bytes out;
  for (const uv_buf_t& b : buffers)
    out.insert(out.end(), b.base, b.base + b.len);
  return out;
}

TEST(PacketBatch, LaysOutTheSameBytesAsOnePacketAtATime) {
  Bytes small(100, 0x11), medium(5000, 0x22), exact(kMaxPacketChunk - 3, 0x33),
      huge(kMaxPacketChunk + 10, 0x44);
  const std::uint8_t semi_sync[3] = {0x00, 0xef, 0x01};
  const std::uint8_t plain[1] = {0x00};
  PacketBatch batch;
  batch.add(ByteView(plain, 1), small);
  batch.add(ByteView(semi_sync, 3), medium);
  batch.add(ByteView(semi_sync, 3), exact);  // payload exactly one full chunk: an empty chunk follows
  batch.add(ByteView(plain, 1), huge);
  const Bytes eof = {0xfe, 0, 0, 2, 0};
  batch.add(eof);
  EXPECT_EQ(batch.packet_count(), 5u);
  std::uint8_t sequence_id = 254;
  const Bytes laid_out = flatten(batch.layout(sequence_id));
  EXPECT_EQ(laid_out.size(), batch.wire_bytes());

  std::uint8_t expected_id = 254;
  Bytes expected;
  auto add = [&](ByteView prefix, ByteView body) {
    Bytes payload(prefix.begin(), prefix.end());
    payload.insert(payload.end(), body.begin(), body.end());
    append_packet(expected, payload, expected_id);
  };
  add(ByteView(plain, 1), small);
  add(ByteView(semi_sync, 3), medium);
  add(ByteView(semi_sync, 3), exact);
  add(ByteView(plain, 1), huge);
  add({}, eof);
  EXPECT_EQ(sequence_id, expected_id);
  ASSERT_EQ(laid_out.size(), expected.size());
  const auto mismatch = std::mismatch(laid_out.begin(), laid_out.end(), expected.begin());
  EXPECT_TRUE(mismatch.first == laid_out.end())
      << "first difference at byte " << (mismatch.first - laid_out.begin());
}

TEST(PacketBatch, ReferencesLargeBodiesInsteadOfCopying) {
  Bytes large(PacketBatch::kCopyThreshold + 1, 0x55);
  Bytes small(10, 0x66);
  PacketBatch batch;
  batch.add(small);
  batch.add(large);
  batch.add(small);
  std::uint8_t sequence_id = 0;
  auto buffers = batch.layout(sequence_id);
  // header+small+header (staged), the large body (borrowed), header+small (staged)
  ASSERT_EQ(buffers.size(), 3u);
  EXPECT_EQ(reinterpret_cast<const std::uint8_t*>(buffers[1].base), large.data());
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.payload_bytes(), 0u);
}

}  // namespace
}  // namespace brelay::net
