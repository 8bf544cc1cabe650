// MySQL's GTID events: GTID (33) and ANONYMOUS_GTID (34) in the fixed layout, GTID_TAGGED (42,
// MySQL 8.3+) in the serialization-library layout. Each opens a transaction.
//
// Fixed layout: u8 flags, 16-byte uuid, i64 gno; [u8 2, i64 last_committed, i64 sequence_number]
// (5.7.6+); [7-byte immediate commit timestamp, bit 55 set: a 7-byte original follows] (8.0.1+);
// [packed transaction length]; [u32 immediate server version, bit 31: u32 original follows];
// [u64 commit group ticket]. Each optional part is read when bytes remain.
// Tagged layout: a serialized message (field id, size, last non-ignorable id as varlen integers)
// whose fields 0-11 are flags, uuid (16 varlen bytes), gno, tag, last_committed, sequence_number,
// immediate/original commit timestamps, transaction length, immediate/original server versions and
// the commit group ticket.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/gtid.h"

namespace brelay::binlog {

struct GtidEvent {
  bool anonymous = false;
  std::uint8_t flags = 0;  // bit 0: may have changed a non-transactional table (commit_flag)
  Gtid gtid;               // gno 0 when anonymous
  std::int64_t last_committed = 0;
  std::int64_t sequence_number = 0;
  std::uint64_t immediate_commit_timestamp = 0;  // microseconds; 0 when absent
  std::uint64_t original_commit_timestamp = 0;
  std::uint64_t transaction_length = 0;  // 0 when absent
  std::uint32_t immediate_server_version = 0;
  std::uint32_t original_server_version = 0;
};

// Parses GTID, ANONYMOUS_GTID or GTID_TAGGED. Without allocation.
Result<GtidEvent> parse_gtid_event(const EventView& event);

// SHOW BINLOG EVENTS Info: "SET @@SESSION.GTID_NEXT= 'uuid:n'" or "... 'ANONYMOUS'".
std::string gtid_event_info(const GtidEvent& gtid);

// Builds the body of a GTID_TAGGED event (for tests and tools; a relay never writes one).
Bytes encode_tagged_gtid_body(const GtidEvent& gtid);

}  // namespace brelay::binlog
