// The handles of the store's named databases (see store_format.h), opened once when the store opens
// and valid for the environment's lifetime. Internal to storage/.
#pragma once

#include <lmdb.h>

#include <optional>

#include "common/result.h"
#include "storage/lmdb_txn.h"

namespace brelay::storage {

struct StoreDatabases {
  MDB_dbi events = 0;
  MDB_dbi files = 0;
  MDB_dbi file_names = 0;
  MDB_dbi gtids = 0;
  MDB_dbi gtid_positions = 0;
  MDB_dbi meta = 0;
  MDB_dbi relay_meta = 0;
  // Absent only in a read-only open of a store written before the database existed.
  std::optional<MDB_dbi> replicas;
  // Absent only in a read-only open of a store older than format version 4 (no compressed files).
  std::optional<MDB_dbi> frames;
  // Absent only in a read-only open of a store older than format version 5.
  std::optional<MDB_dbi> gtid_lists;

  // Opens every database in `txn` (creating them when `create`, which needs a write transaction);
  // `txn` must commit for the handles to stay valid.
  static Result<StoreDatabases> open(LmdbTxn& txn, bool create);
};

}  // namespace brelay::storage
