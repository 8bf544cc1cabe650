#include "common/hex.h"

namespace brelay {

void append_hex(std::string& out, std::span<const std::uint8_t> bytes, HexCase letters) {
  static constexpr char kLower[] = "0123456789abcdef";
  static constexpr char kUpper[] = "0123456789ABCDEF";
  const char* digits = letters == HexCase::kUpper ? kUpper : kLower;
  out.reserve(out.size() + bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
}

std::string to_hex(std::span<const std::uint8_t> bytes, HexCase letters) {
  std::string out;
  append_hex(out, bytes, letters);
  return out;
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status from_hex(std::string_view text, std::span<std::uint8_t> out) {
  if (text.size() != out.size() * 2)
    return make_error("expected {} hex digits, got {} characters", out.size() * 2, text.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = hex_digit_value(text[2 * i]);
    const int low = hex_digit_value(text[2 * i + 1]);
    if (high < 0) return make_error("'{}' at position {} is not a hex digit", text[2 * i], 2 * i);
    if (low < 0) return make_error("'{}' at position {} is not a hex digit", text[2 * i + 1], 2 * i + 1);
    out[i] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return {};
}

}  // namespace brelay
