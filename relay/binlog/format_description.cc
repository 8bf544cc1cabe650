#include "relay/binlog/format_description.h"

#include <array>

#include "common/byte_reader.h"
#include "relay/binlog/event_header.h"

namespace brelay::binlog {

namespace {

constexpr std::size_t kFixedBodySize = 2 + kServerVersionLength + 4 + 1;

std::string_view version_text(ByteView event) {
  const ByteView field = event.subspan(kEventHeaderSize + 2, kServerVersionLength);
  std::string_view text = as_text(field);
  return text.substr(0, text.find('\0'));
}

bool checksum_aware(std::string_view version) {
  const auto split = split_server_version(version);
  const bool mariadb = version.find("MariaDB") != std::string_view::npos;
  const std::array<unsigned, 3> first_aware =
      mariadb ? std::array<unsigned, 3>{5, 3, 0} : std::array<unsigned, 3>{5, 6, 1};
  return split >= first_aware;
}

}  // namespace

std::array<unsigned, 3> split_server_version(std::string_view version) {
  std::array<unsigned, 3> parts = {0, 0, 0};
  std::size_t at = 0;
  for (std::size_t part = 0; part < 3; ++part) {
    unsigned value = 0;
    while (at < version.size() && version[at] >= '0' && version[at] <= '9') {
      value = std::min(value * 10 + static_cast<unsigned>(version[at] - '0'), 0xffffu);
      ++at;
    }
    parts[part] = value;
    if (at >= version.size() || version[at] != '.') break;
    ++at;
  }
  return parts;
}

bool FormatDescription::is_mariadb() const {
  return server_version.find("MariaDB") != std::string::npos;
}

std::uint8_t FormatDescription::post_header_length(EventType type) const {
  const std::size_t index = type_code(type);
  if (index == 0 || index > post_header_lengths.size()) return 0;
  return post_header_lengths[index - 1];
}

Result<bool> format_description_has_checksum(ByteView event) {
  if (event.size() < kEventHeaderSize + kFixedBodySize) {
    return make_error("truncated Format_desc event: {} bytes, needs at least {}", event.size(),
                      kEventHeaderSize + kFixedBodySize);
  }
  return checksum_aware(version_text(event));
}

Result<FormatDescription> parse_format_description(ByteView event) {
  BRELAY_ASSIGN_OR_RETURN(EventHeader header, parse_event_header(event));
  if (header.type != EventType::kFormatDescription) {
    return make_error("expected a Format_desc event, got {}", event_type_name(header.type));
  }
  if (header.event_size != event.size()) {
    return make_error("Format_desc event: header says {} bytes but {} were given", header.event_size,
                      event.size());
  }
  BRELAY_ASSIGN_OR_RETURN(bool has_checksum, format_description_has_checksum(event));
  const std::size_t trailer = has_checksum ? 1 + kChecksumSize : 0;
  if (event.size() < kEventHeaderSize + kFixedBodySize + trailer) {
    return make_error("truncated Format_desc event: {} bytes", event.size());
  }
  ByteReader reader(event.subspan(kEventHeaderSize, event.size() - kEventHeaderSize - trailer));
  FormatDescription fde;
  BRELAY_ASSIGN_OR_RETURN(fde.binlog_version, reader.u16("binlog_version"));
  BRELAY_TRY(reader.skip(kServerVersionLength, "server_version"));
  fde.server_version = std::string(version_text(event));
  BRELAY_ASSIGN_OR_RETURN(fde.created, reader.u32("created"));
  BRELAY_ASSIGN_OR_RETURN(fde.header_length, reader.u8("header_length"));
  if (fde.binlog_version != 4) {
    return make_error("unsupported binlog version {} in Format_desc (only v4 binlogs, MySQL >= 5.0)",
                      fde.binlog_version);
  }
  if (fde.header_length != kEventHeaderSize) {
    return make_error("unsupported event header length {} in Format_desc (expected {})", fde.header_length,
                      kEventHeaderSize);
  }
  const ByteView lengths = reader.rest();
  fde.post_header_lengths.assign(lengths.begin(), lengths.end());
  if (has_checksum) {
    const std::uint8_t algorithm = event[event.size() - kChecksumSize - 1];
    if (algorithm != 0 && algorithm != 1) {
      return make_error("unknown checksum algorithm {} in Format_desc (known: 0 NONE, 1 CRC32)", algorithm);
    }
    fde.checksum_algorithm = static_cast<ChecksumAlgorithm>(algorithm);
  }
  return fde;
}

std::string format_description_info(const FormatDescription& fde) {
  return fmt::format("Server ver: {}, Binlog ver: {}", fde.server_version, fde.binlog_version);
}

}  // namespace brelay::binlog
