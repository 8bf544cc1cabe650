// StoreWriter's lifecycle, its queue and the writer thread's loop. The rest of the writer is in
// files named for their part: writer_admission.cc (what submit() accepts), writer_event_bytes.cc
// (event bytes and their sync), writer_index.cc (a round's LMDB index), writer_commit.cc (the
// group commit pipeline) and writer_failure.cc (stopping on errors and resuming).
#include "storage/store_writer.h"

#include <algorithm>
#include <limits>
#include <thread>
#include <utility>

#include "storage/lmdb_cursor.h"
#include "storage/lmdb_txn.h"
#include "storage/store_format.h"
#include "storage/store_internals.h"
#include "storage/store_recovery.h"
#include "storage/sync_thread.h"

namespace brelay::storage {

Result<std::unique_ptr<StoreWriter>> StoreWriter::start(BinlogStore& store, Options options,
                                                        ProgressCallback on_progress,
                                                        CommitObserver on_commit) {
  if (store.read_only()) return make_error("the store in {} is open read-only: no writer", store.directory());
  options.max_run_bytes = std::clamp<std::size_t>(options.max_run_bytes, 1, std::size_t{1} << 30);
  if (!store.internals().claim_writer()) {
    return make_error("the store in {} already has a writer: a store has one writer at a time",
                      store.directory());
  }
  std::unique_ptr<StoreWriter> writer(
      new StoreWriter(store, options, std::move(on_progress), std::move(on_commit)));
  if (store.sync_mode() == SyncMode::kCommit) writer->syncer_ = std::make_unique<SyncThread>();
  if (store.internals().ciphers().has_keys()) writer->crypto_helper_ = std::make_unique<SyncThread>();
  BRELAY_TRY(writer->load_state());
  writer->progress_.durable_end = writer->published_end_;
  writer->progress_.synced_end = writer->published_end_;
  writer->thread_ = std::thread([w = writer.get()] { w->run(); });
  return writer;
}

StoreWriter::StoreWriter(BinlogStore& store, Options options, ProgressCallback on_progress,
                         CommitObserver on_commit)
    : store_(store),
      internals_(store.internals()),
      options_(options),
      on_progress_(std::move(on_progress)),
      on_commit_(std::move(on_commit)) {}

StoreWriter::~StoreWriter() {
  (void)stop();
  internals_.release_writer();
}

Status StoreWriter::load_state() {
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_.env()));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor files, LmdbCursor::open(txn, internals_.dbs().files));
  BRELAY_ASSIGN_OR_RETURN(auto newest, files.last());
  file_.reset();
  next_file_seq_ = 1;
  if (newest) {
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(newest->key));
    BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(newest->value));
    file_ = std::make_unique<FileState>();
    BRELAY_ASSIGN_OR_RETURN(file_->cipher, internals_.ciphers().of(seq, record));
    file_->encryption = record.encryption;
    BRELAY_ASSIGN_OR_RETURN(file_->info,
                            decode_file_info(seq, record, file_->cipher ? &*file_->cipher : nullptr));
    file_->next_position = record.end_position;
    next_file_seq_ = seq + 1;
    BRELAY_ASSIGN_OR_RETURN(appender_, internals_.event_files().open_for_append(seq));
    BRELAY_ASSIGN_OR_RETURN(appender_size_, internals_.event_files().size(seq));
  } else {
    appender_ = EventFileAppender();
  }
  BRELAY_TRY(set_appender_cipher(file_ ? file_->cipher : std::nullopt));
  keystream_written_end_ = std::numeric_limits<std::uint64_t>::max();
  if (file_ && file_->cipher) {
    BRELAY_ASSIGN_OR_RETURN(file_->macer, crypto::RunMacer::create(file_->cipher->key));
  }
  new_file_ciphers_.clear();
  finished_appenders_.clear();
  appender_written_ = false;
  pending_txn_.reset();
  pending_end_.reset();
  BRELAY_ASSIGN_OR_RETURN(auto resume, read_resume_record(txn, internals_.dbs()));
  committed_end_.reset();
  if (resume) committed_end_ = to_resume_point(*resume);
  published_end_ = committed_end_;
  unsynced_end_.reset();
  current_transaction_gtid_.clear();
  last_gtid_ = committed_end_ ? committed_end_->last_gtid : Bytes();

  std::lock_guard lock(mutex_);
  admission_ = AdmissionState{};
  if (file_) {
    admission_.has_file = true;
    admission_.file = file_->info.name;
    admission_.next_position = file_->next_position;
    admission_.last_boundary = file_->info.end_position;
    admission_.closed = file_->info.closed;
  }
  return {};
}

Result<StoreWriter::Admission> StoreWriter::submit(WriteBatch batch) {
  if (batch.empty()) return Admission{};
  std::unique_lock lock(mutex_);
  if (!progress_.accepting)
    return progress_.error->with_context("the store writer does not accept events now");
  if (stopping_) return make_error("the store writer is stopping and accepts no more events");
  AdmissionState state = admission_;
  BRELAY_TRY(validate(batch, state));
  admission_ = std::move(state);
  queued_bytes_ += batch.byte_size();
  queue_.push_back(std::move(batch));
  const bool full = queued_bytes_ >= options_.queue_limit_bytes;
  if (full) progress_.queue_full = true;
  lock.unlock();
  wake_.notify_all();
  return Admission{full};
}

WriteBatch StoreWriter::take_batch() {
  std::lock_guard lock(mutex_);
  if (spare_batches_.empty()) return WriteBatch();
  WriteBatch batch = std::move(spare_batches_.back());
  spare_batches_.pop_back();
  spare_bytes_ -= batch.capacity_bytes();
  return batch;
}

StoreWriter::Progress StoreWriter::progress() const {
  std::lock_guard lock(mutex_);
  return progress_;
}

void StoreWriter::request_purge(PurgeRequest request, PurgeCallback done) {
  {
    std::lock_guard lock(mutex_);
    purge_jobs_.push_back(PurgeJob{std::move(request), std::move(done)});
  }
  wake_.notify_all();
}

void StoreWriter::request_replica_update(ReplicaUpdate update, std::function<void(Status)> done) {
  {
    std::lock_guard lock(mutex_);
    replica_jobs_.push_back(ReplicaJob{std::move(update), std::move(done)});
  }
  wake_.notify_all();
}

Status StoreWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  if (progress_.error) return *progress_.error;
  return {};
}

void StoreWriter::notify() {
  if (!on_progress_) return;
  Progress snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = progress_;
  }
  on_progress_(snapshot);
  // The thread just woken (a semi-sync acknowledgement to send, readers to serve, a producer let
  // go) is often placed on this CPU, where it waits until this thread blocks: after a lone round's
  // acknowledgement, for the whole index commit (about 55 us on a 2-vCPU VM: store_bench's lone
  // commit 185-220 us against 140-160 us with this yield, one fdatasync 125-150 us). What this
  // thread does next (an index commit, the next round) is not what the woken thread needs now, so
  // it steps aside; with nothing else to run here, the yield returns at once.
  std::this_thread::yield();
}

void StoreWriter::run_purges(std::unique_lock<std::mutex>& lock) {
  while (!replica_jobs_.empty()) {
    ReplicaJob job = std::move(replica_jobs_.front());
    replica_jobs_.pop_front();
    lock.unlock();
    Status updated = store_.update_replica_records(job.update.records, job.update.forget);
    if (job.done) job.done(std::move(updated));
    lock.lock();
  }
  while (!purge_jobs_.empty()) {
    PurgeJob job = std::move(purge_jobs_.front());
    purge_jobs_.pop_front();
    lock.unlock();
    auto report = Retention::purge(store_, job.request);
    if (job.done) job.done(std::move(report));
    lock.lock();
  }
}

void StoreWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    if (pending_txn_ && has_jobs()) {
      // A purge or a replica update writes in its own transaction: the pending one commits first.
      lock.unlock();
      Status finished = finish_pending();
      if (!finished) fail(std::move(finished).error());
      lock.lock();
    }
    run_purges(lock);
    if (!progress_.accepting) {
      if (stopping_) break;
      wait_to_resume(lock);
      continue;
    }
    if (queue_.empty()) {
      if (stopping_) break;
      writer_idle_ = true;
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || has_jobs(); });
      continue;
    }
    bool release_producer = false;
    round_after_idle_ = std::exchange(writer_idle_, false);
    lock.unlock();
    wait_crypto_job();  // it may still read the queued batches (plan_ctr_ahead)
    lock.lock();
    std::deque<WriteBatch> batches = take_round(release_producer);
    lock.unlock();
    if (release_producer) notify();
    write_round(batches);
    lock.lock();
    keep_spare_batches(batches);
  }
  lock.unlock();
  wait_crypto_job();  // the helper's members outlive the thread, but nothing is left running
}

std::deque<WriteBatch> StoreWriter::take_round(bool& release_producer) {
  std::deque<WriteBatch> batches;
  std::size_t taken = 0;
  while (!queue_.empty() && (batches.empty() || taken < options_.max_commit_bytes)) {
    taken += queue_.front().byte_size();
    batches.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queued_bytes_ -= taken;
  release_producer = progress_.queue_full && queued_bytes_ < options_.queue_limit_bytes;
  if (release_producer) progress_.queue_full = false;
  return batches;
}

void StoreWriter::write_round(std::deque<WriteBatch>& batches) {
  auto outcome = commit(batches);
  if (outcome) {
    after_commit(*outcome);
    if (Status synced = finish_lone_commit(); !synced) fail(std::move(synced).error());
  } else {
    fail(std::move(outcome).error());
  }
  for (WriteBatch& batch : batches)
    batch.clear();
}

void StoreWriter::keep_spare_batches(std::deque<WriteBatch>& batches) {
  const std::size_t limit = 2 * (options_.queue_limit_bytes + options_.max_commit_bytes);
  for (WriteBatch& batch : batches) {
    if (spare_bytes_ + batch.capacity_bytes() > limit) break;
    spare_bytes_ += batch.capacity_bytes();
    spare_batches_.push_back(std::move(batch));
  }
}

}  // namespace brelay::storage
