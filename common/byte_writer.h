// Little-endian writer that appends to an owned Bytes buffer; the counterpart of ByteReader.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.h"

namespace brelay {

class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(Bytes initial) : data_(std::move(initial)) {}

  ByteWriter& u8(std::uint8_t v) {
    data_.push_back(v);
    return *this;
  }
  ByteWriter& u16(std::uint16_t v) { return uint_n(v, 2); }
  ByteWriter& u24(std::uint32_t v) { return uint_n(v, 3); }
  ByteWriter& u32(std::uint32_t v) { return uint_n(v, 4); }
  ByteWriter& u48(std::uint64_t v) { return uint_n(v, 6); }
  ByteWriter& u64(std::uint64_t v) { return uint_n(v, 8); }
  ByteWriter& i64(std::int64_t v) { return uint_n(static_cast<std::uint64_t>(v), 8); }
  ByteWriter& uint_n(std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i)
      data_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  // MySQL length-encoded integer, shortest form.
  ByteWriter& lenenc(std::uint64_t v) {
    if (v < 0xfb) return u8(static_cast<std::uint8_t>(v));
    if (v <= 0xffff) return u8(0xfc).u16(static_cast<std::uint16_t>(v));
    if (v <= 0xffffff) return u8(0xfd).u24(static_cast<std::uint32_t>(v));
    return u8(0xfe).u64(v);
  }
  ByteWriter& bytes(ByteView v) {
    data_.insert(data_.end(), v.begin(), v.end());
    return *this;
  }
  ByteWriter& text(std::string_view v) { return bytes(as_bytes(v)); }
  ByteWriter& nul_text(std::string_view v) { return text(v).u8(0); }
  ByteWriter& lenenc_text(std::string_view v) { return lenenc(v.size()).text(v); }
  ByteWriter& zeros(std::size_t n) {
    data_.insert(data_.end(), n, 0);
    return *this;
  }

  std::size_t size() const { return data_.size(); }
  Bytes& data() { return data_; }
  const Bytes& data() const { return data_; }
  Bytes take() && { return std::move(data_); }

 private:
  Bytes data_;
};

}  // namespace brelay
