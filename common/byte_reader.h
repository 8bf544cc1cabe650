// Bounds-checked little-endian reader over borrowed bytes, for wire packets and binlog events.
// Every read checks the remaining length first and returns an Error naming the field; a failed
// read leaves the position unchanged. Never trusts a length it reads: a length larger than what
// remains is an error, not an allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay {

class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  std::size_t position() const { return position_; }
  std::size_t remaining() const { return data_.size() - position_; }
  bool at_end() const { return position_ == data_.size(); }
  ByteView whole() const { return data_; }

  // Fixed-width little-endian unsigned integers of 1..8 bytes.
  Result<std::uint8_t> u8(std::string_view field);
  Result<std::uint16_t> u16(std::string_view field);
  Result<std::uint32_t> u24(std::string_view field);
  Result<std::uint32_t> u32(std::string_view field);
  Result<std::uint64_t> u48(std::string_view field);
  Result<std::uint64_t> u64(std::string_view field);
  Result<std::int64_t> i64(std::string_view field);
  Result<std::uint64_t> uint_n(std::size_t width, std::string_view field);

  // MySQL length-encoded ("packed") integer: < 0xfb one byte, 0xfc + u16, 0xfd + u24, 0xfe + u64.
  // 0xfb (NULL in row data) and 0xff are errors here; use lenenc_or_null() where NULL is allowed.
  Result<std::uint64_t> lenenc(std::string_view field);
  // As lenenc(), but 0xfb reads as std::nullopt.
  Result<std::optional<std::uint64_t>> lenenc_or_null(std::string_view field);

  // `size` bytes as a view into the underlying data.
  Result<ByteView> bytes(std::size_t size, std::string_view field);
  Result<std::string_view> text(std::size_t size, std::string_view field);
  // A length-encoded string.
  Result<std::string_view> lenenc_text(std::string_view field);
  // Bytes up to a NUL, which is consumed and not returned; a missing NUL is an error.
  Result<std::string_view> nul_text(std::string_view field);
  // Everything that remains.
  ByteView rest();
  std::string_view rest_text();

  Status skip(std::size_t size, std::string_view field);
  // Error unless every byte has been consumed ("<what>: N trailing bytes").
  Status expect_end(std::string_view what) const;

 private:
  Status need(std::size_t size, std::string_view field) const;

  ByteView data_;
  std::size_t position_ = 0;
};

}  // namespace brelay
