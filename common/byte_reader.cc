#include "common/byte_reader.h"

#include <cstring>

namespace brelay {

Status ByteReader::need(std::size_t size, std::string_view field) const {
  if (size > remaining()) {
    return make_error("truncated {}: needs {} bytes at offset {}, {} remain", field, size, position_,
                      remaining());
  }
  return {};
}

Result<std::uint64_t> ByteReader::uint_n(std::size_t width, std::string_view field) {
  BRELAY_TRY(need(width, field));
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i)
    v |= std::uint64_t{data_[position_ + i]} << (8 * i);
  position_ += width;
  return v;
}

Result<std::uint8_t> ByteReader::u8(std::string_view field) {
  BRELAY_TRY(need(1, field));
  return data_[position_++];
}
Result<std::uint16_t> ByteReader::u16(std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(auto v, uint_n(2, field));
  return static_cast<std::uint16_t>(v);
}
Result<std::uint32_t> ByteReader::u24(std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(auto v, uint_n(3, field));
  return static_cast<std::uint32_t>(v);
}
Result<std::uint32_t> ByteReader::u32(std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(auto v, uint_n(4, field));
  return static_cast<std::uint32_t>(v);
}
Result<std::uint64_t> ByteReader::u48(std::string_view field) {
  return uint_n(6, field);
}
Result<std::uint64_t> ByteReader::u64(std::string_view field) {
  return uint_n(8, field);
}
Result<std::int64_t> ByteReader::i64(std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(auto v, uint_n(8, field));
  return static_cast<std::int64_t>(v);
}

Result<std::optional<std::uint64_t>> ByteReader::lenenc_or_null(std::string_view field) {
  BRELAY_TRY(need(1, field));
  const std::uint8_t first = data_[position_];
  if (first < 0xfb) {
    ++position_;
    return std::optional<std::uint64_t>(first);
  }
  if (first == 0xfb) {
    ++position_;
    return std::optional<std::uint64_t>();
  }
  if (first == 0xff) return make_error("bad length-encoded integer in {}: first byte 0xff", field);
  const std::size_t width = first == 0xfc ? 2 : first == 0xfd ? 3 : 8;
  BRELAY_TRY(need(1 + width, field));
  ++position_;
  BRELAY_ASSIGN_OR_RETURN(auto v, uint_n(width, field));
  return std::optional<std::uint64_t>(v);
}

Result<std::uint64_t> ByteReader::lenenc(std::string_view field) {
  const std::size_t start = position_;
  BRELAY_ASSIGN_OR_RETURN(auto v, lenenc_or_null(field));
  if (!v) {
    position_ = start;
    return make_error("bad length-encoded integer in {}: NULL (0xfb) where a number is required", field);
  }
  return *v;
}

Result<ByteView> ByteReader::bytes(std::size_t size, std::string_view field) {
  BRELAY_TRY(need(size, field));
  ByteView v = data_.subspan(position_, size);
  position_ += size;
  return v;
}

Result<std::string_view> ByteReader::text(std::size_t size, std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(auto v, bytes(size, field));
  return as_text(v);
}

Result<std::string_view> ByteReader::lenenc_text(std::string_view field) {
  const std::size_t start = position_;
  BRELAY_ASSIGN_OR_RETURN(auto size, lenenc(field));
  if (size > remaining()) {
    position_ = start;
    return make_error("truncated {}: length {} but {} bytes remain", field, size, remaining());
  }
  return text(static_cast<std::size_t>(size), field);
}

Result<std::string_view> ByteReader::nul_text(std::string_view field) {
  if (at_end()) return make_error("truncated {}: no bytes remain at offset {}", field, position_);
  const void* nul = std::memchr(data_.data() + position_, 0, remaining());
  if (nul == nullptr) return make_error("{} is not NUL-terminated (at offset {})", field, position_);
  const std::size_t size = static_cast<const std::uint8_t*>(nul) - (data_.data() + position_);
  std::string_view v = as_text(data_.subspan(position_, size));
  position_ += size + 1;
  return v;
}

ByteView ByteReader::rest() {
  ByteView v = data_.subspan(position_);
  position_ = data_.size();
  return v;
}

std::string_view ByteReader::rest_text() {
  return as_text(rest());
}

Status ByteReader::skip(std::size_t size, std::string_view field) {
  BRELAY_TRY(need(size, field));
  position_ += size;
  return {};
}

Status ByteReader::expect_end(std::string_view what) const {
  if (!at_end()) return make_error("{}: {} unexpected trailing bytes", what, remaining());
  return {};
}

}  // namespace brelay
