// What a MariaDB master does with an event for a replica or reader that announced less than the
// event needs (@mariadb_slave_capability, protocol.md section 3; MariaDB's send_event_to_slave in
// sql/sql_repl.cc): below capability 4 (GTID) GTID events become BEGIN queries and GTID_LIST
// events same-length dummies; below 3 BINLOG_CHECKPOINT events become dummies; ANNOTATE_ROWS goes
// out only when the dump asked for it (flag 0x02), else it is left out for a replica that
// tolerates holes (>= 2), sent as it is to one that knows the event (1) and as a dummy below that.
// A replica that tolerates holes gets no replacement at all: the event is left out (and a
// standalone GTID with it). Pure; any thread.
#pragma once

#include "relay/binlog/event_types.h"

namespace brelay::relay::downstream {

enum class MariadbCompatibility {
  kSend,                   // as stored
  kSkip,                   // left out: the replica tolerates holes
  kSendDummy,              // a same-length dummy event (binlog::mariadb_dummy_event)
  kSendGtidForOldReplica,  // a BEGIN query, or a dummy when standalone (binlog::mariadb_gtid_for_old_replica)
};

// Whether mariadb_compatibility() needs to know if an event of `type` is a standalone GTID.
bool mariadb_compatibility_needs_gtid(binlog::EventType type, int capability);

// `capability`: the replica's @mariadb_slave_capability (mariadb_capability::kUnknown when it set
// none); `standalone_gtid`: for a MariaDB GTID event when mariadb_compatibility_needs_gtid().
MariadbCompatibility mariadb_compatibility(binlog::EventType type, int capability, bool send_annotate_rows,
                                           bool standalone_gtid);

}  // namespace brelay::relay::downstream
