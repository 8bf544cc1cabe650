// The variable-length integers of MySQL's serialization library (libs/mysql/serialization), used
// by GTID_TAGGED events and tagged GTID set encodings: 1-9 bytes, little-endian; the number of
// trailing one bits in the first byte is the count of extra bytes; the value follows the
// terminating zero bit (no terminator for 9 bytes). Signed values are zig-zag coded (sign in bit 0).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/byte_reader.h"
#include "common/byte_writer.h"

namespace brelay::binlog {

Result<std::uint64_t> read_varlen_unsigned(ByteReader& reader, std::string_view field);
Result<std::int64_t> read_varlen_signed(ByteReader& reader, std::string_view field);
void write_varlen_unsigned(ByteWriter& writer, std::uint64_t value);
void write_varlen_signed(ByteWriter& writer, std::int64_t value);

}  // namespace brelay::binlog
