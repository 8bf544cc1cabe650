// How the relay encodes GTID information for the store, which keeps it as opaque bytes. The
// upstream writes these encodings; the downstream, admin commands and tools read them. One file so
// that every reader and writer agrees.
//
//  - Transaction keys (EventAppend::gtid, StoreReader::seek_gtid): MySQL: 0x01, 16-byte uuid,
//    u8 tag length, tag, u64 gno big-endian. MariaDB: 0x02, u32 domain, u32 server_id, u64 seq_no,
//    all big-endian. Anonymous transactions and binlogs without GTIDs have no key.
//  - The executed GTID state kept with each durable boundary (ResumePoint::executed_gtid_set):
//    MySQL: the GtidSet binary encoding (the PREVIOUS_GTIDS body layout) of everything executed up
//    to the boundary (the first stored file's PREVIOUS_GTIDS plus every GTID stored since).
//    MariaDB: the GTID position as text, "d-s-n,d-s-n" sorted by domain (what
//    @slave_connect_state takes and @@gtid_binlog_pos shows).
//  - A file's previous-GTID blob (FileStart::previous_gtids, FileInfo::previous_gtids): MySQL: the
//    file's PREVIOUS_GTIDS set in the binary encoding. MariaDB: the file's GTID_LIST as text,
//    "d-s-n,..." in the event's order (a domain may repeat, one entry per server).
//    Also accepted when reading (decode_previous_gtids): the file's PREVIOUS_GTIDS / GTID_LIST event
//    exactly as the source wrote it (what `binlog-relay import` stores), and the GTID-set text form.
// Pure functions; any thread may call.
#pragma once

#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/gtid_set.h"
#include "relay/binlog/mariadb_gtid_position.h"
#include "relay/binlog/transaction_boundary.h"

namespace brelay::relay {

// The store key of a transaction's GTID; empty for kNone and kAnonymous.
Bytes gtid_key(const binlog::TransactionGtid& gtid);
// Decodes a key made by gtid_key (for listings and tools).
Result<binlog::TransactionGtid> decode_gtid_key(ByteView key);

Bytes encode_mysql_gtid_set(const binlog::GtidSet& set);
Result<binlog::GtidSet> decode_mysql_gtid_set(ByteView blob);

Bytes encode_mariadb_position(const binlog::MariadbGtidPosition& position);
Result<binlog::MariadbGtidPosition> decode_mariadb_position(ByteView blob);

Bytes encode_mariadb_gtid_list(const std::vector<binlog::MariadbGtid>& list);
Result<std::vector<binlog::MariadbGtid>> decode_mariadb_gtid_list(ByteView blob);

// What a file's previous-GTID blob says, whichever producer wrote it.
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
