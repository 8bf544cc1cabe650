// FORMAT_DESCRIPTION_EVENT (type 15), the first event of every binlog file: binlog version, the
// server's version string, creation time, header and post-header lengths, and the checksum
// algorithm of every event in the file. Body: u16 binlog_version, char[50] server_version,
// u32 created, u8 header_length, u8[] post-header lengths (index = type - 1), then on
// checksum-aware servers (MySQL >= 5.6.1, MariaDB >= 5.3) u8 algorithm and the 4-byte CRC, which
// an FDE always carries even when the algorithm is OFF.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/event_types.h"

namespace brelay::binlog {

inline constexpr std::size_t kServerVersionLength = 50;

struct FormatDescription {
  std::uint16_t binlog_version = 4;
  std::string server_version;  // up to the first NUL, e.g. "8.0.31" or "10.5.15-MariaDB-log"
  std::uint32_t created = 0;   // unix time the file was opened; 0 when not the server's first file
  std::uint8_t header_length = 19;
  std::vector<std::uint8_t> post_header_lengths;  // [type - 1]
  // kUndefined for a checksum-unaware server.
  ChecksumAlgorithm checksum_algorithm = ChecksumAlgorithm::kUndefined;

  bool is_mariadb() const;
  // The post-header length the server declared for `type`, or 0 when it declared none.
  std::uint8_t post_header_length(EventType type) const;
};

// Parses a whole FORMAT_DESCRIPTION event (header included). Does not verify its CRC.
Result<FormatDescription> parse_format_description(ByteView event);

// True when the FDE event carries a CRC trailer (its server is checksum-aware). Cheap: reads the
// version string only.
Result<bool> format_description_has_checksum(ByteView event);

// "X.Y.Z..." split into three numbers the way the server does it (non-digits end a component).
std::array<unsigned, 3> split_server_version(std::string_view version);

// SHOW BINLOG EVENTS Info: "Server ver: X, Binlog ver: 4".
std::string format_description_info(const FormatDescription& fde);

}  // namespace brelay::binlog
