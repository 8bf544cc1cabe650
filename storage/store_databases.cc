#include "storage/store_databases.h"

#include "storage/store_format.h"

namespace brelay::storage {

Result<StoreDatabases> StoreDatabases::open(LmdbTxn& txn) {
  StoreDatabases dbs;
  BRELAY_ASSIGN_OR_RETURN(dbs.events, txn.open_database(db_name::kEvents, MDB_CREATE));
  BRELAY_ASSIGN_OR_RETURN(dbs.files, txn.open_database(db_name::kFiles, MDB_CREATE));
  BRELAY_ASSIGN_OR_RETURN(dbs.file_names, txn.open_database(db_name::kFileNames, MDB_CREATE));
  BRELAY_ASSIGN_OR_RETURN(dbs.gtids, txn.open_database(db_name::kGtids, MDB_CREATE));
  BRELAY_ASSIGN_OR_RETURN(dbs.gtid_positions, txn.open_database(db_name::kGtidPositions, MDB_CREATE));
  BRELAY_ASSIGN_OR_RETURN(dbs.meta, txn.open_database(db_name::kMeta, MDB_CREATE));
  BRELAY_ASSIGN_OR_RETURN(dbs.relay_meta, txn.open_database(db_name::kRelayMeta, MDB_CREATE));
  return dbs;
}

}  // namespace brelay::storage
