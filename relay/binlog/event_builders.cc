#include "relay/binlog/event_builders.h"

#include <algorithm>

#include "common/byte_writer.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/query_event.h"

namespace brelay::binlog {

namespace {

// Frames `body` with a header (event_size filled in) and an optional CRC.
Bytes build_event(EventHeader header, ByteView body, bool with_checksum) {
  const std::size_t size = kEventHeaderSize + body.size() + (with_checksum ? kChecksumSize : 0);
  Bytes event(size);
  header.event_size = static_cast<std::uint32_t>(size);
  write_event_header(header, event);
  std::copy(body.begin(), body.end(), event.begin() + kEventHeaderSize);
  if (with_checksum) store_event_checksum(event);
  return event;
}

void put_u16(Bytes& bytes, std::size_t at, std::uint16_t value) {
  bytes[at] = static_cast<std::uint8_t>(value);
  bytes[at + 1] = static_cast<std::uint8_t>(value >> 8);
}
void put_u32(Bytes& bytes, std::size_t at, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i)
    bytes[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

// Query post-header offsets.
constexpr std::size_t kThreadIdOffset = 0;
constexpr std::size_t kExecTimeOffset = 4;
constexpr std::size_t kSchemaLengthOffset = 8;
constexpr std::size_t kErrorCodeOffset = 9;
constexpr std::size_t kStatusVarsLengthOffset = 11;
constexpr std::size_t kQueryDataOffset = 13;
constexpr std::uint8_t kTimeZoneStatusVar = 5;  // Q_TIME_ZONE_CODE

void to_empty_query(Bytes& event, std::uint16_t status_vars_length) {
  std::uint16_t flags = static_cast<std::uint16_t>(event[kFlagsOffset] | event[kFlagsOffset + 1] << 8);
  flags = static_cast<std::uint16_t>((flags & ~event_flags::kThreadSpecific) | event_flags::kSuppressUse);
  put_u16(event, kFlagsOffset, flags);
  event[kTypeOffset] = type_code(EventType::kQuery);
  const std::size_t q = kEventHeaderSize;
  put_u32(event, q + kThreadIdOffset, 0);
  put_u32(event, q + kExecTimeOffset, 0);
  event[q + kSchemaLengthOffset] = 0;
  put_u16(event, q + kErrorCodeOffset, 0);
  put_u16(event, q + kStatusVarsLengthOffset, status_vars_length);
}

}  // namespace

Bytes build_fake_rotate(std::uint32_t server_id, std::string_view file, std::uint64_t position,
                        bool with_checksum) {
  ByteWriter body;
  body.u64(position).text(file);
  EventHeader header;
  header.type = EventType::kRotate;
  header.server_id = server_id;
  header.flags = event_flags::kArtificial;
  return build_event(header, body.data(), with_checksum);
}

Result<Bytes> rewrite_format_description(ByteView fde, bool mid_file_start) {
  BRELAY_ASSIGN_OR_RETURN(EventView view, view_event(fde, ChecksumAlgorithm::kOff));
  if (view.header.type != EventType::kFormatDescription) {
    return make_error("expected a Format_desc event to rewrite, got {}", event_type_name(view.header.type));
  }
  BRELAY_TRY(parse_format_description(fde));
  Bytes out(fde.begin(), fde.end());
  EventHeader header = view.header;
  header.flags = static_cast<std::uint16_t>(header.flags & ~event_flags::kBinlogInUse);
  if (mid_file_start) {
    header.log_pos = 0;
    // created: after the u16 binlog version and the 50-byte server version.
    put_u32(out, kEventHeaderSize + 2 + kServerVersionLength, 0);
  }
  write_event_header(header, out);
  if (view.has_checksum) store_event_checksum(out);
  return out;
}

Bytes build_heartbeat_v1(std::uint32_t server_id, std::string_view file, std::uint32_t log_pos,
                         bool with_checksum) {
  EventHeader header;
  header.type = EventType::kHeartbeat;
  header.server_id = server_id;
  header.log_pos = log_pos;
  return build_event(header, as_bytes(file), with_checksum);
}

Bytes build_heartbeat_v2(std::uint32_t server_id, std::string_view file, std::uint64_t position,
                         bool with_checksum) {
  ByteWriter packed_position;
  packed_position.lenenc(position);
  ByteWriter body;
  body.lenenc(1).lenenc(file.size()).text(file);
  body.lenenc(2).lenenc(packed_position.size()).bytes(packed_position.data());
  body.lenenc(0);
  EventHeader header;
  header.type = EventType::kHeartbeatV2;
  header.server_id = server_id;
  header.log_pos = position <= UINT32_MAX ? static_cast<std::uint32_t>(position) : 0;
  return build_event(header, body.data(), with_checksum);
}

Result<Bytes> mariadb_gtid_for_old_replica(ByteView gtid_event, bool has_checksum) {
  BRELAY_ASSIGN_OR_RETURN(EventView view, view_event(gtid_event, has_checksum ? ChecksumAlgorithm::kCrc32
                                                                              : ChecksumAlgorithm::kOff));
  BRELAY_ASSIGN_OR_RETURN(MariadbGtidEvent gtid, parse_mariadb_gtid(view));
  if (gtid.standalone()) return mariadb_dummy_event(gtid_event, has_checksum);
  const std::size_t data_length = kEventHeaderSize + view.body.size();
  constexpr std::size_t kPlain = kEventHeaderSize + kMariadbGtidPostHeaderSize;
  if (data_length != kPlain && data_length != kPlain + 2) {
    return make_error(
        "cannot replace a MariaDB Gtid event of {} bytes with BEGIN for a replica without GTID "
        "support (only {} or {} bytes convert): upgrade the replica or use GTID replication",
        data_length, kPlain, kPlain + 2);
  }
  Bytes out(gtid_event.begin(), gtid_event.end());
  std::size_t q = kEventHeaderSize + kQueryDataOffset;
  if (data_length == kPlain) {
    to_empty_query(out, 0);
    out[q++] = 0;  // empty schema
  } else {
    // An empty time zone status variable takes up the two extra bytes.
    to_empty_query(out, 2);
    out[q++] = kTimeZoneStatusVar;
    out[q++] = 0;
    out[q++] = 0;
  }
  const std::string_view begin = "BEGIN";
  std::copy(begin.begin(), begin.end(), out.begin() + static_cast<std::ptrdiff_t>(q));
  if (has_checksum) store_event_checksum(out);
  return out;
}

Result<Bytes> mariadb_dummy_event(ByteView event, bool has_checksum) {
  constexpr std::size_t kMinUserVarEvent = kEventHeaderSize + 4 + 1 + 1;                   // 25
  constexpr std::size_t kMinQueryEvent = kEventHeaderSize + kQueryPostHeaderSize + 1 + 1;  // 34
  BRELAY_ASSIGN_OR_RETURN(EventHeader header, parse_event_header(event));
  if (header.event_size != event.size()) {
    return make_error("event header says {} bytes but {} were given", header.event_size, event.size());
  }
  const std::size_t data_length = event.size() - (has_checksum ? kChecksumSize : 0);
  if (event.size() < (has_checksum ? kChecksumSize : 0) || data_length < kMinUserVarEvent) {
    return make_error("cannot replace a {}-byte {} event with a dummy event (at least {} bytes are needed)",
                      event.size(), event_type_name(header.type), kMinUserVarEvent);
  }
  Bytes out(event.begin(), event.end());
  if (data_length < kMinQueryEvent) {
    std::uint16_t flags = static_cast<std::uint16_t>((header.flags & ~event_flags::kThreadSpecific) |
                                                     event_flags::kSuppressUse);
    put_u16(out, kFlagsOffset, flags);
    out[kTypeOffset] = type_code(EventType::kUserVar);
    const std::string_view name = "!dummyvar";
    const std::size_t name_length = data_length - (kMinUserVarEvent - 1);
    put_u32(out, kEventHeaderSize, static_cast<std::uint32_t>(name_length));
    std::copy_n(name.begin(), name_length, out.begin() + kEventHeaderSize + 4);
    out[kEventHeaderSize + 4 + name_length] = 1;  // NULL value
  } else {
    const std::string message = fmt::format("# Dummy event replacing event type {} that slave cannot handle.",
                                            type_code(header.type));
    to_empty_query(out, 0);
    std::size_t q = kEventHeaderSize + kQueryDataOffset;
    out[q++] = 0;  // empty schema
    const std::size_t comment_length = data_length - (kMinQueryEvent - 1);
    for (std::size_t i = 0; i < comment_length; ++i)
      out[q + i] = i < message.size() ? static_cast<std::uint8_t>(message[i]) : ' ';
  }
  if (has_checksum) store_event_checksum(out);
  return out;
}

}  // namespace brelay::binlog
