#include "storage/store_databases.h"

#include <utility>

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
  // Databases added after the first format version: absent from an older store opened read-only.
  for (auto [name, handle] :
       {std::pair{db_name::kReplicas, &dbs.replicas}, std::pair{db_name::kFrames, &dbs.frames},
        std::pair{db_name::kGtidLists, &dbs.gtid_lists}}) {
    auto opened = txn.open_database(name, flags);
    if (opened) {
      *handle = *opened;
    } else if (create || opened.error().code() != MDB_NOTFOUND) {
      return std::move(opened).error();
    }
  }
  return dbs;
}

}  // namespace brelay::storage
