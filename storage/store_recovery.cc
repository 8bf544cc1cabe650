#include "storage/store_recovery.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "storage/lmdb_cursor.h"
#include "storage/store_edits.h"
#include "storage/store_internals.h"

namespace brelay::storage {

Result<std::vector<FileInfo>> committed_files(const LmdbEnv& env, const StoreDatabases& dbs) {
  std::vector<FileInfo> files;
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(env));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, dbs.files));
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(entry->key));
    BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(entry->value));
    files.push_back(to_file_info(seq, record));
    BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return files;
}

Result<std::optional<ResumeRecordView>> read_resume_record(const LmdbTxn& txn, const StoreDatabases& dbs) {
  BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(dbs.meta, as_bytes(meta_key::kResumePoint)));
  if (!value) return std::optional<ResumeRecordView>();
  BRELAY_ASSIGN_OR_RETURN(ResumeRecordView record, ResumeRecordView::decode(*value));
  return std::optional<ResumeRecordView>(record);
}

Result<TrimReport> trim_to_resume_point(LmdbTxn& txn, const StoreDatabases& dbs) {
  BRELAY_ASSIGN_OR_RETURN(auto resume, read_resume_record(txn, dbs));
  const EventKey cutoff = resume ? EventKey{resume->file_seq, resume->position} : EventKey{0, 0};
  const EventKey end{std::numeric_limits<std::uint32_t>::max(), std::numeric_limits<std::uint64_t>::max()};
  TrimReport report;

  BRELAY_ASSIGN_OR_RETURN(EraseCounts events, erase_events(txn, dbs, cutoff, end));
  report.event_bytes = events.event_bytes;
  BRELAY_ASSIGN_OR_RETURN(report.gtids, erase_gtids(txn, dbs, cutoff, end));

  // Files begun after the resume point hold nothing complete.
  std::vector<std::uint32_t> later_files;
  {
    BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, dbs.files));
    const auto first_later = encode_file_key(resume ? resume->file_seq + 1 : 0);
    BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.seek(first_later));
    while (entry) {
      BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(entry->key));
      later_files.push_back(seq);
      BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
    }
  }
  for (std::uint32_t seq : later_files) {
    BRELAY_ASSIGN_OR_RETURN(bool erased, erase_file_record(txn, dbs, seq));
    if (erased) report.files += 1;
  }

  if (resume) {
    const auto key = encode_file_key(resume->file_seq);
    BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(dbs.files, key));
    if (!value) {
      return make_error("the store's resume point names file #{} ({}) but the store has no record of it",
                        resume->file_seq, resume->file_name);
    }
    BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(*value));
    if (record.end_position != resume->position) {
      record.end_position = resume->position;
      const Bytes encoded = record.encode();
      BRELAY_TRY(txn.put(dbs.files, key, encoded));
    }
  }
  return report;
}

namespace {

// Compressed files (compression.h): a `.events.zst` whose record has no compression part is an
// abandoned compression (a crash before its index commit) and goes; one whose record has a part
// must hold all of it.
Status reconcile_compressed_files(StoreInternals& store, const std::vector<FileInfo>& records,
                                  bool& removed) {
  EventFiles& event_files = store.event_files();
  BRELAY_ASSIGN_OR_RETURN(std::vector<std::uint32_t> present, event_files.list_compressed());
  for (std::uint32_t seq : present) {
    auto it = std::ranges::find(records, seq, &FileInfo::seq);
    if (it == records.end() || it->compressed_bytes == 0) {
      BRELAY_TRY(event_files.remove_compressed(seq));
      removed = true;
    }
  }
  for (const FileInfo& record : records) {
    if (record.compressed_bytes == 0) continue;
    const std::uint64_t size = std::ranges::binary_search(present, record.seq)
                                   ? event_files.compressed_size(record.seq).value_or(0)
                                   : 0;
    if (size < record.compressed_bytes) {
      return make_error(
          "the store in {} holds {} compressed in {} bytes of {} but that file has {} bytes: the store is "
          "damaged; "
          "restore the directory from a backup or move it away to start a new store",
          store.directory(), record.name, record.compressed_bytes, event_files.compressed_path(record.seq),
          size);
    }
  }
  return {};
}

}  // namespace

Status reconcile_event_files(StoreInternals& store) {
  const bool sync = store.sync_mode() == SyncMode::kCommit;
  EventFiles& event_files = store.event_files();
  BRELAY_ASSIGN_OR_RETURN(std::vector<FileInfo> records, committed_files(store.env(), store.dbs()));
  BRELAY_ASSIGN_OR_RETURN(std::vector<std::uint32_t> present, event_files.list());
  bool removed = false;
  for (std::uint32_t seq : present) {
    // An event file is kept only for a record whose bytes are not compressed (a compressed file's
    // event file is left by a crash between the index commit and its removal).
    const bool recorded = std::ranges::any_of(
        records, [&](const FileInfo& r) { return r.seq == seq && r.compressed_bytes == 0; });
    if (!recorded) {
      BRELAY_TRY(event_files.remove(seq));
      removed = true;
    }
  }
  BRELAY_TRY(reconcile_compressed_files(store, records, removed));
  for (const FileInfo& record : records) {
    const std::uint32_t seq = record.seq;
    if (record.compressed_bytes > 0) continue;
    if (!std::ranges::binary_search(present, seq)) {
      if (record.end_position == record.first_position) {
        BRELAY_TRY(event_files.create(seq, sync));
        continue;
      }
      return make_error(
          "the store in {} indexes {} bytes of {} but its event file {} is missing: the store is damaged; "
          "restore the directory from a backup or move it away to start a new store",
          store.directory(), record.end_position - record.first_position, record.name, event_files.path(seq));
    }
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t size, event_files.size(seq));
    if (size < record.end_position) {
      return make_error(
          "the event file {} of {} has {} bytes but the store holds {} up to position {}: the store is "
          "damaged (written with sync = none before a machine crash?); restore the directory from a backup "
          "or move it away to start a new store",
          event_files.path(seq), record.name, size, record.name, record.end_position);
    }
    if (size > record.end_position) BRELAY_TRY(event_files.truncate(seq, record.end_position, sync));
  }
  if (removed && sync) BRELAY_TRY(event_files.sync_directory());
  return {};
}

}  // namespace brelay::storage
