// Removals shared by recovery (trimming an unfinished tail) and retention (purging whole files):
// each works inside the caller's write transaction and keeps the databases consistent with each
// other (a GTID is removed with the transaction it locates, a file record with its name).
// Internal to storage/; writer-thread or retention callers only.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "storage/lmdb_txn.h"
#include "storage/store_databases.h"
#include "storage/store_format.h"

namespace brelay::storage {

struct EraseCounts {
  std::uint64_t event_bytes = 0;  // payload bytes removed
  std::uint64_t runs = 0;
  std::uint64_t gtids = 0;
};

// Removes every stored event in [from, until): whole runs that start in the range, and the part of
// a run that starts before `from` but reaches past it (`from` must be an event start, checked).
Result<EraseCounts> erase_events(LmdbTxn& txn, const StoreDatabases& dbs, EventKey from, EventKey until);

// Removes the GTIDs of the transactions that start in [from, until), from the GTID databases and
// the GTID lists of compressed files. A GTID whose index entry points elsewhere (stored again
// later) keeps that entry.
Result<std::uint64_t> erase_gtids(LmdbTxn& txn, const StoreDatabases& dbs, EventKey from, EventKey until);

// Moves the gtid_positions entries of file `file_seq` into its GTID list (gtid_lists, format
// version 5), for a file being compressed; returns how many. A file without GTIDs gets no list.
Result<std::uint64_t> pack_gtid_positions(LmdbTxn& txn, const StoreDatabases& dbs, std::uint32_t file_seq);

// What a compressed file keeps no more (format version 5): its runs (readers find its events in
// its frames) and its gtid_positions entries (packed by pack_gtid_positions). The compressor's
// commit and the conversion of a version 4 store both do exactly this.
Status drop_index_of_compressed_file(LmdbTxn& txn, const StoreDatabases& dbs, std::uint32_t file_seq);

// Removes a file's record, its name entry and a compressed file's frames; returns false when there was no
// record.
Result<bool> erase_file_record(LmdbTxn& txn, const StoreDatabases& dbs, std::uint32_t file_seq);

}  // namespace brelay::storage
