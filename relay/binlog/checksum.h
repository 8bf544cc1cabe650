// Binlog event checksums: zlib CRC32 over the whole event but its last 4 bytes, stored
// little-endian in those bytes. The FORMAT_DESCRIPTION rule: its CRC is computed with the
// LOG_EVENT_BINLOG_IN_USE_F flag cleared (a server sets the flag in the file after checksumming),
// so verification clears it in a copy of the header first. Pure functions; any thread may call.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::binlog {

// The algorithm byte of a FORMAT_DESCRIPTION event, and what a replica announces with
// @master_binlog_checksum. kUndefined: a checksum-unaware server (no algorithm byte).
enum class ChecksumAlgorithm : std::uint8_t { kOff = 0, kCrc32 = 1, kUndefined = 255 };

inline constexpr std::size_t kChecksumSize = 4;

// "NONE", "CRC32" or "UNDEFINED", as @@global.binlog_checksum shows it.
std::string_view checksum_algorithm_name(ChecksumAlgorithm algorithm);

// zlib's crc32 of `bytes`, continuing from `crc` (0 to start).
std::uint32_t crc32(ByteView bytes, std::uint32_t crc = 0);

// CRC32 of an event's bytes but the trailing 4, as the server computes it (the FDE rule applied).
// `event` must be at least 19 + 4 bytes.
std::uint32_t compute_event_checksum(ByteView event);

// Verifies the trailing CRC of an event that carries one. Errors name the event type, both values
// and what to do (the bytes were damaged in transit or on disk).
Status verify_event_checksum(ByteView event);

// Recomputes and stores the trailing CRC of an event built or rewritten in place.
void store_event_checksum(std::span<std::uint8_t> event);

}  // namespace brelay::binlog
