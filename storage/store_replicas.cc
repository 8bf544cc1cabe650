// BinlogStore's remembered replicas: the `replicas` database (replica_record.h).
#include "storage/binlog_store.h"
#include "storage/lmdb_cursor.h"
#include "storage/lmdb_txn.h"
#include "storage/store_internals.h"

namespace brelay::storage {

Result<std::vector<ReplicaRecord>> BinlogStore::replica_records(
    std::vector<DamagedReplicaRecord>* damaged) const {
  std::vector<ReplicaRecord> records;
  const std::optional<MDB_dbi> dbi = internals_->dbs().replicas;
  if (!dbi) return records;
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_->env()));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, *dbi));
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    auto record = ReplicaRecord::decode(entry->key, entry->value);
    if (record) {
      records.push_back(std::move(*record));
    } else if (damaged != nullptr) {
      auto id = decode_replica_key(entry->key);
      damaged->push_back({id ? std::optional<std::uint32_t>(*id) : std::nullopt, std::move(record).error()});
    } else {
      return std::move(record).error();
    }
    BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return records;
}

Status BinlogStore::update_replica_records(const std::vector<ReplicaRecord>& records,
                                           const std::vector<std::uint32_t>& forget) {
  if (read_only()) return make_error("the store in {} is open read-only", directory());
  const std::optional<MDB_dbi> dbi = internals_->dbs().replicas;
  if (!dbi) return make_error("the store in {} has no replicas database", directory());
  if (records.empty() && forget.empty()) return {};
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(internals_->env()));
  for (const ReplicaRecord& record : records) {
    const auto key = record.key();
    BRELAY_TRY(txn.put(*dbi, key, record.encode()));
  }
  for (std::uint32_t server_id : forget) {
    ReplicaRecord gone;
    gone.server_id = server_id;
    const auto key = gone.key();
    BRELAY_TRY(txn.del(*dbi, key));
  }
  BRELAY_TRY(txn.commit());
  return internals_->sync_after_write();
}

}  // namespace brelay::storage
