#include "storage/retention.h"

#include <algorithm>

#include "storage/binlog_store.h"
#include "storage/lmdb_cursor.h"
#include "storage/lmdb_txn.h"
#include "storage/store_edits.h"
#include "storage/store_format.h"
#include "storage/store_internals.h"
#include "storage/store_recovery.h"

namespace brelay::storage {
namespace {

// How many files from the front the request asks for, before the reader and newest-file limits.
Result<std::size_t> requested_count(const std::vector<FileInfo>& files, const PurgeRequest& request,
                                    std::int64_t now) {
  std::size_t count = 0;
  switch (request.kind) {
    case PurgeRequest::Kind::kToFile: {
      auto it = std::ranges::find(files, request.to_file, &FileInfo::name);
      if (it == files.end()) {
        return make_error(
            "cannot purge binary logs to '{}': the relay stores no file of that name (SHOW BINARY "
            "LOGS lists the stored files)",
            request.to_file);
      }
      count = static_cast<std::size_t>(it - files.begin());
      break;
    }
    case PurgeRequest::Kind::kBeforeTime:
      while (count < files.size() && files[count].last_write_time < request.before_time)
        ++count;
      break;
    case PurgeRequest::Kind::kPolicy: {
      const RetentionPolicy& policy = request.policy;
      std::uint64_t total = 0;
      for (const FileInfo& file : files)
        total += file.stored_bytes();
      while (count < files.size()) {
        const FileInfo& file = files[count];
        const bool too_old =
            policy.max_age_seconds > 0 && file.last_write_time < now - policy.max_age_seconds;
        const bool too_big = policy.max_total_bytes > 0 && total > policy.max_total_bytes;
        if (!too_old && !too_big) break;
        total -= file.stored_bytes();
        ++count;
      }
      break;
    }
  }
  return count;
}

// The oldest stored file a remembered replica last seen at or after `since` continues in, with the
// replica's server_id; nullopt when none needs a stored file.
struct ReplicaNeed {
  std::uint32_t file_seq = 0;
  std::uint32_t server_id = 0;
  std::string file;
};
Result<std::optional<ReplicaNeed>> oldest_replica_need(const BinlogStore& store,
                                                       const std::vector<FileInfo>& files,
                                                       std::int64_t since) {
  BRELAY_ASSIGN_OR_RETURN(std::vector<ReplicaRecord> records, store.replica_records());
  std::optional<ReplicaNeed> oldest;
  for (const ReplicaRecord& record : records) {
    if (record.last_seen < since) continue;
    auto it = std::ranges::find(files, record.file, &FileInfo::name);
    if (it == files.end()) continue;  // no longer stored: nothing left to keep for it
    if (!oldest || it->seq < oldest->file_seq) oldest = ReplicaNeed{it->seq, record.server_id, it->name};
  }
  return oldest;
}

Status purge_file(const LmdbEnv& env, const StoreDatabases& dbs, std::uint32_t seq) {
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(env));
  const EventKey from{seq, 0};
  const EventKey until{seq + 1, 0};
  BRELAY_TRY(erase_events(txn, dbs, from, until));
  BRELAY_TRY(erase_gtids(txn, dbs, from, until));
  BRELAY_TRY(erase_file_record(txn, dbs, seq));
  return txn.commit();
}

}  // namespace

PurgeRequest PurgeRequest::by_policy(RetentionPolicy policy, bool protect_readers) {
  PurgeRequest request;
  request.kind = Kind::kPolicy;
  request.policy = policy;
  request.protect_readers = protect_readers;
  return request;
}

PurgeRequest PurgeRequest::to(std::string file, bool protect_readers) {
  PurgeRequest request;
  request.kind = Kind::kToFile;
  request.to_file = std::move(file);
  request.protect_readers = protect_readers;
  return request;
}

PurgeRequest PurgeRequest::before(std::int64_t time, bool protect_readers) {
  PurgeRequest request;
  request.kind = Kind::kBeforeTime;
  request.before_time = time;
  request.protect_readers = protect_readers;
  return request;
}

Result<PurgeReport> Retention::purge(BinlogStore& store, const PurgeRequest& request) {
  if (store.read_only())
    return make_error("the store in {} is open read-only: nothing can be purged", store.directory());
  StoreInternals& internals = store.internals();
  PurgeReport report;
  BRELAY_ASSIGN_OR_RETURN(std::vector<FileInfo> files, committed_files(internals.env(), internals.dbs()));
  const std::int64_t now = request.now != 0 ? request.now : store.now();
  BRELAY_ASSIGN_OR_RETURN(std::size_t count, requested_count(files, request, now));
  // The newest file is the one being written (or the next to be): it always stays.
  if (!files.empty()) count = std::min(count, files.size() - 1);
  std::optional<ReplicaNeed> replica_need;
  if (count > 0 && request.protect_replicas_seen_since) {
    BRELAY_ASSIGN_OR_RETURN(replica_need,
                            oldest_replica_need(store, files, *request.protect_replicas_seen_since));
  }

  Status purged_all = ok_status();
  std::vector<std::uint32_t> purged_seqs;
  for (std::size_t i = 0; i < count; ++i) {
    const FileInfo& file = files[i];
    if (request.protect_readers) {
      const auto oldest_read = internals.readers().oldest_file();
      if (oldest_read && *oldest_read <= file.seq) {
        report.kept_for_reader = file.name;
        break;
      }
    }
    if (replica_need && replica_need->file_seq <= file.seq) {
      report.kept_for_replica = replica_need->server_id;
      report.kept_for_replica_file = replica_need->file;
      break;
    }
    if (auto purged = purge_file(internals.env(), internals.dbs(), file.seq); !purged) {
      purged_all = std::move(purged).error().with_context(fmt::format("purging binary log {}", file.name));
      break;
    }
    report.purged_files.push_back(file.name);
    purged_seqs.push_back(file.seq);
    report.purged_bytes += file.stored_bytes();
  }
  if (!report.purged_files.empty()) {
    BRELAY_TRY(internals.sync_after_write());
    // Only once the index no longer names them (a crash before this leaves files recovery removes).
    for (std::uint32_t seq : purged_seqs) {
      BRELAY_TRY(internals.event_files().remove(seq));
      BRELAY_TRY(internals.event_files().remove_compressed(seq));
      internals.ciphers().forget(seq);
    }
    internals.count_purge();
  }
  BRELAY_TRY(purged_all);
  BRELAY_ASSIGN_OR_RETURN(report.purged_gtid_set, store.purged_gtid_set());
  return report;
}

}  // namespace brelay::storage
