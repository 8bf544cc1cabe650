// How the relay fills the two GTID fields the store keeps opaque (storage/write_batch.h), so that
// every producer (the upstream, `binlog-relay import`) writes them alike and the downstream reads
// them back:
//  - the GTID index key of a transaction (EventAppend::gtid): MySQL "M" + 16-byte uuid + big-endian
//    gno [+ tag]; MariaDB "D" + big-endian domain, server id, seq_no. Anonymous transactions and
//    binlogs without GTIDs have no key.
//  - a file's previous-GTID blob (FileStart::previous_gtids): the file's PREVIOUS_GTIDS (MySQL) or
//    GTID_LIST (MariaDB) event exactly as the source wrote it, checksum included; empty when the
//    file has neither. decode_previous_gtids() also accepts the bare encoded GTID set and the text
//    forms ("uuid:1-5", "0-1-5,1-2-3"), so a store written by any earlier producer still reads.
// Pure functions; any thread.
#pragma once

#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/gtid_set.h"
#include "relay/binlog/mariadb_gtid_position.h"
#include "relay/binlog/transaction_boundary.h"

namespace brelay::relay {

// The index key for `gtid`; empty for kNone and kAnonymous.
Bytes stored_gtid_key(const binlog::TransactionGtid& gtid);

// What a file's previous-GTID blob says.
struct PreviousGtids {
  enum class Kind { kNone, kMysql, kMariadb };
  Kind kind = Kind::kNone;
  binlog::GtidSet mysql;                       // kMysql: GTIDs executed before the file
  std::vector<binlog::MariadbGtid> gtid_list;  // kMariadb: the GTID_LIST entries, in order
};

// Decodes a previous-GTID blob (see the header comment). An empty blob is Kind::kNone.
Result<PreviousGtids> decode_previous_gtids(ByteView blob);

// True for the event types whose bytes make a previous-GTID blob (PREVIOUS_GTIDS, GTID_LIST).
bool is_previous_gtids_event(ByteView event);

}  // namespace brelay::relay
