// What the relay knows about its source: the flavour and exact version string (the relay greets
// replicas with it), ids, the checksum algorithm and the replication-relevant variables replicas
// ask for. The upstream learns it on every connection and keeps it in the store (meta key
// kSourceIdentityMetaKey), so the relay can serve before the source is reachable again.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/format_description.h"

namespace brelay::relay {

enum class Flavor { kMysql, kMariadb };

inline constexpr std::string_view kSourceIdentityMetaKey = "source_identity";

struct SourceIdentity {
  Flavor flavor = Flavor::kMysql;
  std::string version;  // the greeting's version string, exactly as the source sent it
  std::uint32_t server_id = 0;
  std::string server_uuid;  // MySQL's @@server_uuid; empty for MariaDB
  binlog::ChecksumAlgorithm checksum = binlog::ChecksumAlgorithm::kCrc32;
  // Source variables replicas and CDC readers ask about (binlog_format, binlog_row_image, gtid_mode,
  // enforce_gtid_consistency, gtid_domain_id, version_comment, ...), by lower-case name.
  std::map<std::string, std::string> variables;

  bool operator==(const SourceIdentity&) const = default;
};

// MariaDB greets with "5.5.5-10.11.19-MariaDB..." or "10.11.19-MariaDB..."; everything else is MySQL.
Flavor flavor_of_version(std::string_view version);
// The version without MariaDB's "5.5.5-" compatibility prefix ("10.11.19-MariaDB-0+deb12u1").
std::string_view strip_compatibility_prefix(std::string_view version);
std::string_view to_string(Flavor flavor);

// A stable text encoding ("key=value" lines, values escaped) for the store's meta table.
Bytes encode_source_identity(const SourceIdentity& identity);
Result<SourceIdentity> decode_source_identity(ByteView bytes);

// The identity a source with this FDE had: flavour and version from the version string (a
// MariaDB 10.x version gets the "5.5.5-" prefix its greeting carries), checksum algorithm, and
// `server_id` (the FDE header's).
SourceIdentity source_identity_from_format_description(const binlog::FormatDescription& fde,
                                                       std::uint32_t server_id);

}  // namespace brelay::relay
