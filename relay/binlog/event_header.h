// The 19-byte v4 event header every binlog event starts with, the binlog file magic, and
// EventView: an event split into header, body and optional CRC trailer without copying.
// Everything here is a pure function of its input; any thread may call. Parsing never allocates
// on success, so it is fit for the per-event ingest path.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/event_types.h"

namespace brelay::binlog {

inline constexpr std::size_t kEventHeaderSize = 19;
inline constexpr std::array<std::uint8_t, 4> kBinlogMagic = {0xfe, 'b', 'i', 'n'};
// Offsets of the header fields inside an event.
inline constexpr std::size_t kTypeOffset = 4;
inline constexpr std::size_t kServerIdOffset = 5;
inline constexpr std::size_t kEventSizeOffset = 9;
inline constexpr std::size_t kLogPosOffset = 13;
inline constexpr std::size_t kFlagsOffset = 17;

// Header flag bits (MySQL's LOG_EVENT_*_F, MariaDB's LOG_EVENT_SKIP_REPLICATION_F).
namespace event_flags {
inline constexpr std::uint16_t kBinlogInUse = 0x1;
inline constexpr std::uint16_t kThreadSpecific = 0x4;
inline constexpr std::uint16_t kSuppressUse = 0x8;
inline constexpr std::uint16_t kArtificial = 0x20;
inline constexpr std::uint16_t kRelayLog = 0x40;
inline constexpr std::uint16_t kIgnorable = 0x80;
inline constexpr std::uint16_t kSkipReplication = 0x8000;
}  // namespace event_flags

struct EventHeader {
  std::uint32_t timestamp = 0;
  EventType type = EventType::kUnknown;
  std::uint32_t server_id = 0;
  std::uint32_t event_size = 0;  // header + body + checksum
  std::uint32_t log_pos = 0;     // offset of the next event in the source's file; 0 if artificial
  std::uint16_t flags = 0;

  bool artificial() const { return (flags & event_flags::kArtificial) != 0; }
  friend bool operator==(const EventHeader&, const EventHeader&) = default;
};

// Reads the header from the first 19 bytes of `bytes` (which may be longer or, for a file
// reader, only the header). Errors: fewer than 19 bytes, or an event_size below 19.
Result<EventHeader> parse_event_header(ByteView bytes);

// Writes `header` as 19 bytes at the start of `out` (which must hold at least 19 bytes).
void write_event_header(const EventHeader& header, std::span<std::uint8_t> out);

// An event split without copying: views into the caller's bytes, valid while those live.
struct EventView {
  EventHeader header;
  ByteView bytes;  // the whole event, checksum included
  ByteView body;   // after the header, before the checksum
  bool has_checksum = false;
};

// Splits a whole event. `algorithm` is the binlog's checksum algorithm from its FORMAT_DESCRIPTION
// (kUndefined counts as kOff); a FORMAT_DESCRIPTION itself carries a CRC whenever its server is
// checksum-aware, whatever `algorithm` says. Errors: header errors, event_size different from
// bytes.size(), or an event too short for its checksum. Does not verify the CRC (verify_checksum).
Result<EventView> view_event(ByteView bytes, ChecksumAlgorithm algorithm);

}  // namespace brelay::binlog
