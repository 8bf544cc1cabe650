// StoreWriter's lone commit: a round that nothing else waits behind is made durable with one
// fdatasync of its event file, which holds the round's bytes and, right after them, its commit
// record (commit_record.h). The crash rule stays whole:
//   - the index names one complete version at every instant: the LMDB commit keeps LMDB's own
//     order (MDB_NOMETASYNC: pages synced, then the meta page), and it begins only after the event
//     file's sync, so the index never names bytes that are not durable;
//   - nothing acknowledged is lost: the round is reported durable only once its bytes and record
//     are on disk; if its LMDB commit is then lost (kill -9 before it, power loss before its meta
//     page is synced), recovery finds the record at the file's end, continuing the index exactly,
//     with bytes that match their CRC, and indexes the round again from it;
//   - nothing is duplicated: the record says where the round begins, and recovery indexes it only
//     when that is where the index ends; the next round overwrites the record only after this
//     round's meta page is synced (finish_lone_commit, before the writer takes another round).
// Readers see the round once its LMDB commit is done (its pages synced, its bytes durable); they
// never see bytes that are not durable.
// An encrypted file's round is encrypted as any other and written first; its record, sealed with
// a MAC over those stored bytes (commit_record.h), follows in a second write, plain, before the one
// fdatasync. The round may take this path only where it needs no keystream segment (it continues
// the bytes under the nonce in force): a replay knows only the segments the committed file record
// states.
#include <algorithm>
#include <chrono>
#include <utility>

#include "storage/commit_record.h"
#include "storage/store_internals.h"
#include "storage/store_recovery.h"
#include "storage/store_writer.h"

namespace brelay::storage {
namespace {

// Larger rounds take the group commit path: their sync costs more than a second one, and a record
// is written and checked in full.
constexpr std::uint64_t kMaxLoneRoundBytes = std::uint64_t{1} << 20;

}  // namespace

bool StoreWriter::lone_round(const std::deque<WriteBatch>& batches) const {
  // Several submits queued behind a busy writer: the group commit path overlaps their syncs.
  if (!round_after_idle_ && batches.size() > 1) return false;
  if (pending_txn_ || sync_in_flight_ || unsynced_end_ || lone_meta_unsynced_) return false;
  if (!file_ || file_->info.closed || !appender_.is_open() || appender_written_) return false;
  // An encrypted round that would start a keystream segment takes the group commit path: its
  // record's replay could not know the segment's nonce.
  if (appender_cipher_ && (file_->next_position < keystream_written_end_ || !file_->macer ||
                           file_->next_position >= FileEncryption::kCommitRecordPositions))
    return false;
  if (file_->next_position != file_->info.end_position || !finished_appenders_.empty()) return false;
  {
    std::lock_guard lock(mutex_);
    if (!queue_.empty()) return false;
  }
  std::uint64_t bytes = 0;
  const WriteBatch::Event* last = nullptr;
  for (const WriteBatch& batch : batches) {
    for (const WriteBatch::Op& op : batch.ops_) {
      if (op.kind == WriteBatch::OpKind::kEvent) {
        last = &batch.events_[op.index];
        bytes += last->size;
      } else if (op.kind != WriteBatch::OpKind::kPutMeta) {
        return false;
      }
    }
  }
  return last != nullptr && last->boundary && bytes <= kMaxLoneRoundBytes;
}

Result<Bytes> StoreWriter::lone_commit_record(const std::deque<WriteBatch>& batches, std::int64_t now) {
  CommitRecordBuilder builder;
  std::uint32_t crc = 0;
  std::uint64_t end = file_->next_position;
  std::optional<CommitRecordSeal> seal;
  if (appender_cipher_) {
    seal.emplace();
    seal->macer = &*file_->macer;
    const crypto::FileNonce* segment = segment_nonce_at(*appender_cipher_, file_->next_position);
    seal->nonce = segment != nullptr ? *segment : appender_cipher_->nonce;
  }
  for (std::size_t index = 0; index < batches.size(); ++index) {
    const WriteBatch& batch = batches[index];
    for (const WriteBatch::Op& op : batch.ops_) {
      if (op.kind == WriteBatch::OpKind::kPutMeta) {
        const WriteBatch::Meta& meta = batch.metas_[op.index];
        builder.add_meta(meta.key, meta.value);
        continue;
      }
      const WriteBatch::Event& event = batch.events_[op.index];
      builder.add_event(event.size, event.timestamp, event.boundary, batch.event_gtid(event),
                        batch.event_executed_set(event));
      end = event.position + event.size;
      if (!seal) {
        crc = commit_record_crc(batch.event_bytes(event), crc);
        continue;
      }
      // The event as write_event_bytes() stored it (contiguous events in one piece).
      const ByteView stored = ByteView(ciphertexts_[index]).subspan(event.offset, event.size);
      crc = commit_record_crc(stored, crc);
      append_joined(seal->stored, stored);
    }
  }
  return builder.finish(file_->info.seq, file_->next_position, end, now, crc, seal ? &*seal : nullptr);
}

ResumePoint StoreWriter::lone_round_end(const std::deque<WriteBatch>& batches) const {
  // What build_index will put: the round ends on a boundary, after its last event.
  ResumePoint end;
  end.file = file_->info.name;
  end.file_seq = file_->info.seq;
  ByteView last_gtid(last_gtid_);
  ByteView open_gtid;
  for (const WriteBatch& batch : batches) {
    for (const WriteBatch::Op& op : batch.ops_) {
      if (op.kind != WriteBatch::OpKind::kEvent) continue;
      const WriteBatch::Event& event = batch.events_[op.index];
      if (event.gtid_size != 0) open_gtid = batch.event_gtid(event);
      if (!event.boundary) continue;
      if (!open_gtid.empty()) last_gtid = std::exchange(open_gtid, ByteView());
      end.position = event.position + event.size;
      end.timestamp = event.timestamp;
      const ByteView executed = batch.event_executed_set(event);
      end.executed_gtid_set.assign(executed.begin(), executed.end());
    }
  }
  end.last_gtid.assign(last_gtid.begin(), last_gtid.end());
  return end;
}

Result<StoreWriter::CommitOutcome> StoreWriter::commit_lone(std::deque<WriteBatch>& batches,
                                                            std::chrono::steady_clock::time_point started) {
  CommitOutcome outcome;
  const std::int64_t now = store_.now();
  std::uint64_t round_end = file_->next_position;  // where the record goes: after the last event
  for (const WriteBatch& batch : batches) {
    if (!batch.events_.empty()) round_end = batch.events_.back().position + batch.events_.back().size;
  }
  Bytes record;
  if (!appender_cipher_) {
    BRELAY_ASSIGN_OR_RETURN(record, lone_commit_record(batches, now));
    BRELAY_TRY(write_event_bytes(batches, record));
  } else {  // the record seals the stored bytes: it follows their write, outside the keystream
    BRELAY_TRY(write_event_bytes(batches));
    BRELAY_ASSIGN_OR_RETURN(record, lone_commit_record(batches, now));
    const ByteView pieces[] = {record};
    BRELAY_TRY(appender_.write_at(round_end, pieces));
    appender_size_ = std::max(appender_size_, round_end + record.size());
  }
  // The record must end the file: cut what an earlier, longer write left after it.
  const std::uint64_t file_size = appender_size_;
  const std::uint64_t written_end = round_end + record.size();
  if (file_size > written_end) {
    BRELAY_TRY(internals_.event_files().truncate(file_->info.seq, written_end, false));
    appender_size_ = written_end;
  }
  // On this thread: handing the sync to the sync thread and back costs two wake-ups, more than
  // building the index, which waits until after the acknowledgement.
  const auto syncing = std::chrono::steady_clock::now();
  if (Status synced = appender_.sync(); !synced) {
    // Not acknowledged, so never to be indexed: after a failed fdatasync Linux may report the next
    // one clean without these pages on disk, and a replay (resume, or an open while they are still
    // cached) would take the round from its record. Cut the record with the round.
    if (Status cut = internals_.event_files().truncate(file_->info.seq, file_->info.end_position, false);
        cut) {
      appender_size_ = file_->info.end_position;
    } else {
      lone_round_unsynced_ = true;
    }
    return std::move(synced).error();
  }
  appender_written_ = false;
  report_synced(lone_round_end(batches));
  const auto acknowledged = std::chrono::steady_clock::now();
  BRELAY_ASSIGN_OR_RETURN(BuiltIndex built, build_index(batches, outcome.stats, now));
  outcome.stats.event_bytes_encrypted_ahead = encrypted_ahead_bytes_;
  BRELAY_TRY(built.txn.commit());
  if (built.end) committed_end_ = std::move(built.end);
  lone_meta_unsynced_ = true;
  outcome.durable = committed_end_;
  outcome.stats.commit_time = acknowledged - syncing;
  outcome.stats.total_time = std::chrono::steady_clock::now() - started;
  return outcome;
}

void StoreWriter::report_synced(ResumePoint end) {
  {
    std::lock_guard lock(mutex_);
    progress_.synced_end = std::move(end);
  }
  notify();
}

Status StoreWriter::finish_lone_commit() {
  if (!lone_meta_unsynced_) return {};
  lone_meta_unsynced_ = false;
  return internals_.env().sync(true);
}

Status StoreWriter::replay_lone_commit() {
  if (std::exchange(lone_round_unsynced_, false)) return {};  // its sync failed: reconcile cuts it
  BRELAY_ASSIGN_OR_RETURN(std::vector<FileInfo> files, committed_files(internals_.env(), internals_.dbs()));
  if (files.empty() || files.back().closed) return {};
  const FileInfo& newest = files.back();
  BRELAY_ASSIGN_OR_RETURN(const std::optional<FileCipher> cipher, committed_cipher(newest.seq));
  BRELAY_ASSIGN_OR_RETURN(auto round, read_commit_record(internals_.event_files(), newest.seq,
                                                         newest.end_position, cipher ? &*cipher : nullptr));
  if (!round) return {};
  BRELAY_TRY(load_state());
  // build_index() MACs an encrypted round's runs over its stored bytes, as write_event_bytes()
  // leaves them.
  ciphertexts_.clear();
  if (cipher) ciphertexts_.push_back(std::move(round->stored));
  // Synced before it was acknowledged; again here in case it never was.
  BRELAY_TRY(appender_.sync());
  std::deque<WriteBatch> batches;
  batches.push_back(std::move(round->batch));
  CommitStats stats;
  BRELAY_ASSIGN_OR_RETURN(BuiltIndex built, build_index(batches, stats, round->now));
  BRELAY_TRY(built.txn.commit());
  return internals_.env().sync(true);
}

Result<std::optional<FileCipher>> StoreWriter::committed_cipher(std::uint32_t file_seq) {
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_.env()));
  BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(internals_.dbs().files, encode_file_key(file_seq)));
  if (!value) return make_error("internal: binary log {} has no record", file_seq);
  BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(*value));
  // Its nonce and segments unchecked: a changed one fails the commit record's MAC, which binds the
  // nonce in force, and load_state() checks the record's own MAC before anything is indexed.
  return internals_.ciphers().of(file_seq, record);
}

Status StoreWriter::recover_lone_commit(BinlogStore& store) {
  if (!store.internals().claim_writer()) {
    return make_error("the store in {} has a writer: recovery runs before any", store.directory());
  }
  StoreWriter writer(store, Options{}, {}, {});  // its destructor releases the claim
  return writer.replay_lone_commit();
}

}  // namespace brelay::storage
