#include "relay/binlog/checksum.h"

#include <libdeflate.h>

#include <algorithm>
#include <array>

#include "relay/binlog/event_header.h"

namespace brelay::binlog {

std::string_view checksum_algorithm_name(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kOff: return "NONE";
    case ChecksumAlgorithm::kCrc32: return "CRC32";
    case ChecksumAlgorithm::kUndefined: break;
  }
  return "UNDEFINED";
}

std::uint32_t crc32(ByteView bytes, std::uint32_t crc) {
  // libdeflate's CRC-32 is zlib's (same polynomial, same conventions), computed with carry-less
  // multiplication (PCLMULQDQ) where the CPU has it: several times zlib's speed, and every event
  // the relay stores passes through here (tests/bench/binlog_codec_bench measures both).
  return libdeflate_crc32(crc, bytes.data(), bytes.size());
}

std::uint32_t compute_event_checksum(ByteView event) {
  const ByteView covered = event.first(event.size() - kChecksumSize);
  if (event[kTypeOffset] != type_code(EventType::kFormatDescription) ||
      (event[kFlagsOffset] & event_flags::kBinlogInUse) == 0) {
    return crc32(covered);
  }
  std::array<std::uint8_t, kEventHeaderSize> header;
  std::copy_n(covered.begin(), kEventHeaderSize, header.begin());
  header[kFlagsOffset] &= static_cast<std::uint8_t>(~event_flags::kBinlogInUse);
  return crc32(covered.subspan(kEventHeaderSize), crc32(header));
}

static std::uint32_t stored_checksum(ByteView event) {
  const std::size_t at = event.size() - kChecksumSize;
  return std::uint32_t{event[at]} | std::uint32_t{event[at + 1]} << 8 | std::uint32_t{event[at + 2]} << 16 |
         std::uint32_t{event[at + 3]} << 24;
}

Status verify_event_checksum(ByteView event) {
  if (event.size() < kEventHeaderSize + kChecksumSize) {
    return make_error("event of {} bytes is too short to carry a checksum", event.size());
  }
  const std::uint32_t computed = compute_event_checksum(event);
  const std::uint32_t stored = stored_checksum(event);
  if (computed != stored) {
    return make_error(
        "checksum mismatch in {} event: stored CRC32 {:08x}, computed {:08x}; the event was damaged "
        "in transit or on disk: fetch it again from the source",
        event_type_name(event_type(event[kTypeOffset])), stored, computed);
  }
  return {};
}

void store_event_checksum(std::span<std::uint8_t> event) {
  const std::uint32_t crc = compute_event_checksum(event);
  const std::size_t at = event.size() - kChecksumSize;
  for (std::size_t i = 0; i < 4; ++i)
    event[at + i] = static_cast<std::uint8_t>(crc >> (8 * i));
}

}  // namespace brelay::binlog
