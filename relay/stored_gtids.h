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
// Pure functions; any thread may call.
#pragma once

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

}  // namespace brelay::relay
