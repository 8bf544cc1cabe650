#include "relay/binlog/serialization_varlen.h"

#include <bit>

namespace brelay::binlog {

Result<std::uint64_t> read_varlen_unsigned(ByteReader& reader, std::string_view field) {
  if (reader.at_end())
    return make_error("truncated {}: no bytes remain at offset {}", field, reader.position());
  const std::uint8_t first = reader.whole()[reader.position()];
  const int size = std::countr_one(first) + 1;
  if (static_cast<std::size_t>(size) > reader.remaining()) {
    return make_error("truncated {}: a {}-byte variable-length integer at offset {}, {} bytes remain", field,
                      size, reader.position(), reader.remaining());
  }
  (void)reader.u8(field);
  const std::uint64_t low = size >= 8 ? 0 : std::uint64_t{first} >> size;
  if (size == 1) return low;
  const std::uint64_t high = *reader.uint_n(static_cast<std::size_t>(size - 1), field);
  return low | (size == 9 ? high : high << (8 - size));
}

Result<std::int64_t> read_varlen_signed(ByteReader& reader, std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t coded, read_varlen_unsigned(reader, field));
  const std::uint64_t magnitude = coded >> 1;
  return static_cast<std::int64_t>((coded & 1) != 0 ? ~magnitude : magnitude);
}

void write_varlen_unsigned(ByteWriter& writer, std::uint64_t value) {
  // 7 value bits per byte up to 8 bytes (56 bits); 57-64 bits take 9 bytes behind a 0xff marker.
  const int bits = std::bit_width(value);
  const int byte_count = bits == 0 ? 1 : (bits <= 56 ? (bits + 6) / 7 : 9);
  if (byte_count == 9) {
    writer.u8(0xff).u64(value);
    return;
  }
  const std::uint8_t marker = static_cast<std::uint8_t>((1u << (byte_count - 1)) - 1);
  writer.u8(static_cast<std::uint8_t>(marker | (value << byte_count)));
  if (byte_count > 1) writer.uint_n(value >> (8 - byte_count), static_cast<std::size_t>(byte_count - 1));
}

void write_varlen_signed(ByteWriter& writer, std::int64_t value) {
  const std::uint64_t sign = value < 0 ? 1 : 0;
  const std::uint64_t magnitude =
      value < 0 ? ~static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  write_varlen_unsigned(writer, magnitude << 1 | sign);
}

}  // namespace brelay::binlog
