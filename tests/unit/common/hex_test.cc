#include "common/hex.h"

#include <array>

#include <gtest/gtest.h>

#include "common/bytes.h"

namespace brelay {
namespace {

TEST(Bytes, HexEncoding) {
  EXPECT_EQ(to_hex(to_bytes(std::string_view("\x00\xab\x10", 3))), "00ab10");
}

TEST(Hex, EncodesInEitherCase) {
  const Bytes bytes = {0x00, 0x9f, 0xa0, 0xff};
  EXPECT_EQ(to_hex(bytes), "009fa0ff");
  EXPECT_EQ(to_hex(bytes, HexCase::kUpper), "009FA0FF");
  EXPECT_EQ(to_hex(Bytes{}), "");
  std::string out = "*";
  append_hex(out, bytes, HexCase::kUpper);
  EXPECT_EQ(out, "*009FA0FF");
}

TEST(Hex, DigitValues) {
  EXPECT_EQ(hex_digit_value('0'), 0);
  EXPECT_EQ(hex_digit_value('9'), 9);
  EXPECT_EQ(hex_digit_value('a'), 10);
  EXPECT_EQ(hex_digit_value('F'), 15);
  for (char c : {'g', 'G', ' ', '-', '/', ':', '@', '`', '\0'})
    EXPECT_EQ(hex_digit_value(c), -1) << static_cast<int>(c);
}

TEST(Hex, DecodesEitherCaseAndRoundTrips) {
  std::array<std::uint8_t, 4> out{};
  ASSERT_TRUE(from_hex("009Fa0fF", out));
  EXPECT_EQ(out, (std::array<std::uint8_t, 4>{0x00, 0x9f, 0xa0, 0xff}));
  EXPECT_EQ(to_hex(out), "009fa0ff");
  std::array<std::uint8_t, 0> none{};
  EXPECT_TRUE(from_hex("", none));
}

TEST(Hex, DecodeRejectsWrongLengthAndNonHexDigits) {
  std::array<std::uint8_t, 2> out{};
  auto odd = from_hex("abc", out);
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().message(), "expected 4 hex digits, got 3 characters");
  EXPECT_FALSE(from_hex("abcdef", out));
  EXPECT_FALSE(from_hex("", out));
  auto high = from_hex("zb00", out);
  ASSERT_FALSE(high);
  EXPECT_EQ(high.error().message(), "'z' at position 0 is not a hex digit");
  auto low = from_hex("0b0g", out);
  ASSERT_FALSE(low);
  EXPECT_EQ(low.error().message(), "'g' at position 3 is not a hex digit");
}

}  // namespace
}  // namespace brelay
