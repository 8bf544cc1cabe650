#include "relay/binlog/event_header.h"

#include "relay/binlog/format_description.h"

namespace brelay::binlog {

namespace {

// Little-endian load of `width` bytes; the caller has checked the bounds.
std::uint32_t load_le(const std::uint8_t* at, std::size_t width) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < width; ++i)
    value |= std::uint32_t{at[i]} << (8 * i);
  return value;
}

}  // namespace

Result<EventHeader> parse_event_header(ByteView bytes) {
  // The per-event hot path: one bounds check, then direct loads of the fixed fields.
  if (bytes.size() < kEventHeaderSize) {
    return make_error("truncated event header: {} of {} bytes", bytes.size(), kEventHeaderSize);
  }
  const std::uint8_t* at = bytes.data();
  EventHeader header;
  header.timestamp = load_le(at, 4);
  header.type = event_type(at[kTypeOffset]);
  header.server_id = load_le(at + kServerIdOffset, 4);
  header.event_size = load_le(at + kEventSizeOffset, 4);
  header.log_pos = load_le(at + kLogPosOffset, 4);
  header.flags = static_cast<std::uint16_t>(load_le(at + kFlagsOffset, 2));
  if (header.event_size < kEventHeaderSize) {
    return make_error("bad event header: event_size {} is smaller than the {}-byte header (type {})",
                      header.event_size, kEventHeaderSize, type_code(header.type));
  }
  return header;
}

void write_event_header(const EventHeader& header, std::span<std::uint8_t> out) {
  auto put = [&out](std::size_t at, std::uint64_t value, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i)
      out[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
  };
  put(0, header.timestamp, 4);
  out[kTypeOffset] = type_code(header.type);
  put(kServerIdOffset, header.server_id, 4);
  put(kEventSizeOffset, header.event_size, 4);
  put(kLogPosOffset, header.log_pos, 4);
  put(kFlagsOffset, header.flags, 2);
}

Result<EventView> view_event(ByteView bytes, ChecksumAlgorithm algorithm) {
  BRELAY_ASSIGN_OR_RETURN(EventHeader header, parse_event_header(bytes));
  if (header.event_size != bytes.size()) {
    return make_error("{} event: header says {} bytes but {} were given", event_type_name(header.type),
                      header.event_size, bytes.size());
  }
  bool has_checksum = algorithm == ChecksumAlgorithm::kCrc32;
  if (header.type == EventType::kFormatDescription) {
    BRELAY_ASSIGN_OR_RETURN(has_checksum, format_description_has_checksum(bytes));
  }
  const std::size_t trailer = has_checksum ? kChecksumSize : 0;
  if (bytes.size() < kEventHeaderSize + trailer) {
    return make_error("{} event of {} bytes is too short for its checksum", event_type_name(header.type),
                      bytes.size());
  }
  EventView view;
  view.header = header;
  view.bytes = bytes;
  view.body = bytes.subspan(kEventHeaderSize, bytes.size() - kEventHeaderSize - trailer);
  view.has_checksum = has_checksum;
  return view;
}

}  // namespace brelay::binlog
