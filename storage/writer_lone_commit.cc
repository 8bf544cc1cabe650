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
  // An encrypted file takes the group commit path: its record would have to be read back through
  // the file's cipher and its replayed runs MACed, which recovery does not do (yet).
  if (appender_cipher_) return false;
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

Bytes StoreWriter::lone_commit_record(const std::deque<WriteBatch>& batches, std::int64_t now) const {
  CommitRecordBuilder builder;
  std::uint32_t crc = 0;
  std::uint64_t end = file_->next_position;
  for (const WriteBatch& batch : batches) {
    for (const WriteBatch::Op& op : batch.ops_) {
      if (op.kind == WriteBatch::OpKind::kPutMeta) {
        const WriteBatch::Meta& meta = batch.metas_[op.index];
        builder.add_meta(meta.key, meta.value);
        continue;
      }
      const WriteBatch::Event& event = batch.events_[op.index];
      crc = commit_record_crc(batch.event_bytes(event), crc);
      builder.add_event(event.size, event.timestamp, event.boundary, batch.event_gtid(event),
                        batch.event_executed_set(event));
      end = event.position + event.size;
    }
  }
  return builder.finish(file_->info.seq, file_->next_position, end, now, crc);
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
  const Bytes record = lone_commit_record(batches, now);
  BRELAY_TRY(write_event_bytes(batches, record));
  // The record must end the file: cut what an earlier, longer write left after it.
  const std::uint64_t file_size = appender_size_;
  std::uint64_t written_end = file_->next_position + record.size();
  for (const WriteBatch& batch : batches)
    written_end += batch.payload_.size();
  if (file_size > written_end) {
    BRELAY_TRY(internals_.event_files().truncate(file_->info.seq, written_end, false));
    appender_size_ = written_end;
  }
  // On this thread: handing the sync to the sync thread and back costs two wake-ups, more than
  // building the index, which waits until after the acknowledgement.
  const auto syncing = std::chrono::steady_clock::now();
  BRELAY_TRY(appender_.sync());
  appender_written_ = false;
  report_synced(lone_round_end(batches));
  const auto acknowledged = std::chrono::steady_clock::now();
  BRELAY_ASSIGN_OR_RETURN(BuiltIndex built, build_index(batches, outcome.stats, now));
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
  BRELAY_ASSIGN_OR_RETURN(std::vector<FileInfo> files, committed_files(internals_.env(), internals_.dbs()));
  if (files.empty() || files.back().closed) return {};
  const FileInfo& newest = files.back();
  BRELAY_ASSIGN_OR_RETURN(auto round,
                          read_commit_record(internals_.event_files(), newest.seq, newest.end_position));
  if (!round) return {};
  BRELAY_TRY(load_state());
  // Synced before it was acknowledged; again here in case it never was.
  BRELAY_TRY(appender_.sync());
  std::deque<WriteBatch> batches;
  batches.push_back(std::move(round->batch));
  CommitStats stats;
  BRELAY_ASSIGN_OR_RETURN(BuiltIndex built, build_index(batches, stats, round->now));
  BRELAY_TRY(built.txn.commit());
  return internals_.env().sync(true);
}

Status StoreWriter::recover_lone_commit(BinlogStore& store) {
  if (!store.internals().claim_writer()) {
    return make_error("the store in {} has a writer: recovery runs before any", store.directory());
  }
  StoreWriter writer(store, Options{}, {}, {});  // its destructor releases the claim
  return writer.replay_lone_commit();
}

}  // namespace brelay::storage
