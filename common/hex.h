// Hex text for bytes: the one encoder and checked decoder every layer uses (password hashes in net/,
// UUIDs in relay/binlog/, ids in logs and tests). Pure functions, any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

// Takes std::span<const std::uint8_t> (ByteView) so that common/bytes.h can include this header.
namespace brelay {

enum class HexCase { kLower, kUpper };

// Two digits per byte, lower case unless asked otherwise.
std::string to_hex(std::span<const std::uint8_t> bytes, HexCase letters = HexCase::kLower);
// Appends the digits of `bytes` to `out` (for formats that put separators between groups).
void append_hex(std::string& out, std::span<const std::uint8_t> bytes, HexCase letters = HexCase::kLower);

// The value of one hex digit (either case), or -1 when `c` is not one.
int hex_digit_value(char c);

// Decodes exactly out.size() bytes from 2 * out.size() hex digits (either case). The error names
// the length mismatch or the position of the first character that is not a hex digit; `out` is
// then partly written.
Status from_hex(std::string_view text, std::span<std::uint8_t> out);

}  // namespace brelay
