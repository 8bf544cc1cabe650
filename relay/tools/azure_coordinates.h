// Where an Azure Database for MySQL target starts replicating from the relay, for `binlog-relay
// azure` (azure_setup.h): a stored file and position checked to be servable (stored, not purged,
// an event start at a transaction boundary), the flavour of the binlog there, and the MySQL GTID
// sets a GTID setup needs: what was executed before that point (the value of `az mysql
// flexible-server gtid reset --gtid-set`), what the store has purged (the target must hold it) and
// what it has executed up to its durable end (the target may hold no more).
//
// Reads a store (typically opened read-only while the relay runs) with short-lived StoreReaders;
// any thread but a libuv loop's (it walks events, which can take a while on a large file).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "relay/binlog/gtid_set.h"
#include "relay/core/source_identity.h"
#include "storage/binlog_store.h"

namespace brelay::relay {

struct StoredStart {
  std::string file;
  std::uint64_t position = 0;
  Flavor flavor = Flavor::kMysql;  // of the stored binlog at `file` (its format description)
  // MySQL GTIDs executed before file:position: the file's PREVIOUS_GTIDS plus the GTIDs of its
  // transactions before the position. Empty for MariaDB and for binlogs without GTIDs.
  binlog::GtidSet executed_before;
  binlog::GtidSet purged;        // the oldest stored file's PREVIOUS_GTIDS (what retention removed)
  binlog::GtidSet executed_end;  // MySQL GTIDs up to the store's durable end
  bool has_mysql_gtids = false;  // the stored binlog carries MySQL GTIDs (any of the sets above)
};

// Locates `file`:`position` in `store`, or the store's durable end when `file` is nullopt. Errors
// say what is wrong and what to do: an empty store, a file retention purged or the relay has not
// stored yet, a position outside what is stored, inside an event or inside a transaction. Without
// `gtid_sets`, `purged`, `executed_end` and `has_mysql_gtids` are left empty (they cost a walk of
// the newest file) and `executed_before` is filled only for an explicit `file`.
Result<StoredStart> locate_stored_start(storage::BinlogStore& store, const std::optional<std::string>& file,
                                        std::uint64_t position, bool gtid_sets = true);

}  // namespace brelay::relay
