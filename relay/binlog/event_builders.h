// Events a master synthesises when serving a dump (protocol.md section 3): the fake ROTATE that
// opens a stream, the FORMAT_DESCRIPTION rewrite for a start in the middle of a file, heartbeats,
// and for MariaDB replicas older than capability 4 the same-length replacements MariaDB's own
// master sends (sql/sql_repl.cc, Query_log_event::begin_event / dummy_event). Pure functions; any
// thread may call. Each returns a complete event with a correct CRC when `with_checksum`.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/event_header.h"

namespace brelay::binlog {

// Fake ROTATE: timestamp 0, the source's server_id, log_pos 0, LOG_EVENT_ARTIFICIAL_F, body u64
// position + file name; a CRC only when the replica announced CRC32.
Bytes build_fake_rotate(std::uint32_t server_id, std::string_view file, std::uint64_t position,
                        bool with_checksum);

// The FDE as a dump sends it: IN_USE cleared; for a start past position 4 also log_pos 0 and
// created 0. The CRC (which an FDE of a checksum-aware server always has) is recomputed.
Result<Bytes> rewrite_format_description(ByteView fde, bool mid_file_start);

// HEARTBEAT (v1): timestamp 0, flags 0, log_pos = `log_pos`, body = the file name.
Bytes build_heartbeat_v1(std::uint32_t server_id, std::string_view file, std::uint32_t log_pos,
                         bool with_checksum);
// HEARTBEAT_V2: body (1, len, file name), (2, len, packed position), 0; header log_pos is the
// position when it fits 32 bits, else 0.
Bytes build_heartbeat_v2(std::uint32_t server_id, std::string_view file, std::uint64_t position,
                         bool with_checksum);

// For a MariaDB replica with capability < 4 (no GTID support): a non-standalone GTID event becomes
// a "BEGIN" query of the same length; a standalone one becomes a dummy event. Errors for a GTID
// event of a length MariaDB cannot convert (only 19 + 19 or 19 + 21 body bytes).
Result<Bytes> mariadb_gtid_for_old_replica(ByteView gtid_event, bool has_checksum);

// A same-length event the replica ignores (GTID_LIST, BINLOG_CHECKPOINT, ANNOTATE_ROWS for old
// replicas): a Query event holding "# Dummy event replacing event type N that slave cannot
// handle." padded with spaces, or for events under 34 bytes a NULL user variable "@`!dummyvar`".
// Errors for an event under 25 bytes (without its checksum).
Result<Bytes> mariadb_dummy_event(ByteView event, bool has_checksum);

}  // namespace brelay::binlog
