// Recovery: makes the store end exactly at its durable resume point (the end of the last complete
// transaction). The writer may commit the first part of a transaction to bound its memory; after a
// crash, or after a failed commit, that unfinished part is removed here so the stream the store
// holds always ends on a transaction boundary and the upstream resumes without gaps or duplicates.
// Internal to storage/: BinlogStore::open and the writer's restart call it in a write transaction,
// then reconcile the event files with what that transaction left.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/result.h"
#include "storage/lmdb_env.h"
#include "storage/lmdb_txn.h"
#include "storage/store_databases.h"
#include "storage/store_format.h"
#include "storage/store_types.h"

namespace brelay::storage {

class StoreInternals;  // store_internals.h

struct TrimReport {
  std::uint64_t event_bytes = 0;
  std::uint64_t gtids = 0;
  std::uint64_t files = 0;

  bool empty() const { return event_bytes == 0 && gtids == 0 && files == 0; }
};

// Removes every event, GTID and file that lies after the resume point stored in `dbs.meta` (all of
// them when there is none) and sets the resume file's end to the resume position.
Result<TrimReport> trim_to_resume_point(LmdbTxn& txn, const StoreDatabases& dbs);

// Every committed file record, oldest first (including one begun after the durable end: it is the
// newest and is never purged, but it counts as the newest).
Result<std::vector<FileInfo>> committed_files(const LmdbEnv& env, const StoreDatabases& dbs);

// The resume record stored in `dbs.meta`, if any (views into `txn`'s snapshot).
Result<std::optional<ResumeRecordView>> read_resume_record(const LmdbTxn& txn, const StoreDatabases& dbs);

// Makes the event files agree with the committed index (see event_files.h): cuts bytes past each
// file's end, removes event files without a file record, and reports an event file shorter than
// what the index names as damage. Writable stores only; recovery calls it on open and the writer
// when it resumes.
Status reconcile_event_files(StoreInternals& store);

}  // namespace brelay::storage
