#include "common/byte_reader.h"

#include <gtest/gtest.h>

#include "common/byte_writer.h"

namespace brelay {
namespace {

TEST(ByteReader, ReadsLittleEndianIntegers) {
  const Bytes data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
  ByteReader r(data);
  EXPECT_EQ(*r.u8("a"), 0x01);
  EXPECT_EQ(*r.u16("b"), 0x0302);
  EXPECT_EQ(*r.u24("c"), 0x060504u);
  EXPECT_EQ(r.remaining(), 3u);
  auto too_long = r.u32("d");
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message().find("truncated d"), std::string::npos);
  EXPECT_EQ(r.position(), 6u) << "a failed read leaves the position unchanged";
  EXPECT_EQ(*r.u24("e"), 0x090807u);
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.expect_end("packet"));
}

TEST(ByteReader, LengthEncodedIntegersRoundTripAtEveryWidth) {
  for (std::uint64_t v :
       {0ull, 250ull, 251ull, 0xffffull, 0x10000ull, 0xffffffull, 0x1000000ull, 0xffffffffffffffffull}) {
    ByteWriter w;
    w.lenenc(v);
    ByteReader r(w.data());
    auto read = r.lenenc("v");
    ASSERT_TRUE(read) << read.error().message();
    EXPECT_EQ(*read, v);
    EXPECT_TRUE(r.at_end());
    // Every cut of the encoding is an error, never a read past the end.
    for (std::size_t cut = 0; cut < w.size(); ++cut) {
      ByteReader partial(ByteView(w.data()).first(cut));
      EXPECT_FALSE(partial.lenenc("v")) << "value " << v << " cut at " << cut;
      EXPECT_EQ(partial.position(), 0u);
    }
  }
}

TEST(ByteReader, LengthEncodedNullAndBadPrefix) {
  const Bytes null_marker = {0xfb};
  ByteReader a(null_marker);
  EXPECT_FALSE(a.lenenc("n"));
  ByteReader b(null_marker);
  auto maybe = b.lenenc_or_null("n");
  ASSERT_TRUE(maybe);
  EXPECT_FALSE(maybe->has_value());
  const Bytes bad = {0xff, 0, 0};
  ByteReader c(bad);
  EXPECT_FALSE(c.lenenc_or_null("n"));
}

TEST(ByteReader, StringsNeverTrustTheirLength) {
  ByteWriter w;
  w.lenenc_text("hello").nul_text("world");
  ByteReader r(w.data());
  EXPECT_EQ(*r.lenenc_text("s"), "hello");
  EXPECT_EQ(*r.nul_text("t"), "world");
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.nul_text("empty")) << "no bytes left";

  const Bytes lying = {0xfc, 0xff, 0xff, 'a', 'b'};  // claims 65535 bytes
  ByteReader l(lying);
  EXPECT_FALSE(l.lenenc_text("s"));
  EXPECT_EQ(l.position(), 0u);

  const Bytes no_nul = {'a', 'b', 'c'};
  ByteReader n(no_nul);
  auto missing = n.nul_text("name");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("not NUL-terminated"), std::string::npos);
}

TEST(ByteReader, ExpectEndReportsTrailingBytes) {
  const Bytes data = {1, 2, 3};
  ByteReader r(data);
  ASSERT_TRUE(r.skip(1, "x"));
  auto status = r.expect_end("COM_PING");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(), "COM_PING: 2 unexpected trailing bytes");
}

}  // namespace
}  // namespace brelay
