#include "storage/store_databases.h"

#include "storage/store_format.h"

namespace brelay::storage {

Result<StoreDatabases> StoreDatabases::open(LmdbTxn& txn, bool create) {
  const unsigned flags = create ? MDB_CREATE : 0;
  StoreDatabases dbs;
  BRELAY_ASSIGN_OR_RETURN(dbs.events, txn.open_database(db_name::kEvents, flags));
  BRELAY_ASSIGN_OR_RETURN(dbs.files, txn.open_database(db_name::kFiles, flags));
  BRELAY_ASSIGN_OR_RETURN(dbs.file_names, txn.open_database(db_name::kFileNames, flags));
  BRELAY_ASSIGN_OR_RETURN(dbs.gtids, txn.open_database(db_name::kGtids, flags));
  BRELAY_ASSIGN_OR_RETURN(dbs.gtid_positions, txn.open_database(db_name::kGtidPositions, flags));
  BRELAY_ASSIGN_OR_RETURN(dbs.meta, txn.open_database(db_name::kMeta, flags));
  BRELAY_ASSIGN_OR_RETURN(dbs.relay_meta, txn.open_database(db_name::kRelayMeta, flags));
  auto replicas = txn.open_database(db_name::kReplicas, flags);
  if (replicas) {
    dbs.replicas = *replicas;
  } else if (create || replicas.error().code() != MDB_NOTFOUND) {
    return std::move(replicas).error();
  }
  auto frames = txn.open_database(db_name::kFrames, flags);
  if (frames) {
    dbs.frames = *frames;
  } else if (create || frames.error().code() != MDB_NOTFOUND) {
    return std::move(frames).error();
  }
  return dbs;
}

}  // namespace brelay::storage
