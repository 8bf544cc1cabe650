#include "storage/store_writer.h"

#include <malloc.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "storage/lmdb_cursor.h"
#include "storage/lmdb_txn.h"
#include "storage/store_edits.h"
#include "storage/store_format.h"
#include "storage/store_recovery.h"

namespace brelay::storage {
namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

// Consecutive events of one file waiting to be indexed as one run.
struct PendingRun {
  std::uint32_t file_seq = 0;
  std::uint64_t first_position = 0;
  std::vector<std::uint32_t> ends;
  std::size_t bytes = 0;

  bool empty() const { return ends.empty(); }
  void add(ByteView event) {
    bytes += event.size();
    ends.push_back(static_cast<std::uint32_t>(bytes));
  }
  void clear() {
    ends.clear();
    bytes = 0;
  }
};

// Writes the index entry of a run whose bytes are already in its event file.
Status write_index(LmdbCursor& events, PendingRun& run) {
  if (run.empty()) return {};
  const auto key = EventKey{run.file_seq, run.first_position}.encode();
  BRELAY_ASSIGN_OR_RETURN(auto value,
                          events.reserve(key, RunView::encoded_size(run.ends.size()), MDB_APPEND));
  RunView::write(value, run.ends);
  run.clear();
  return {};
}

Status put_file_record(LmdbTxn& txn, const StoreDatabases& dbs, const FileInfo& info) {
  const Bytes record = record_view(info).encode();
  return txn.put(dbs.files, encode_file_key(info.seq), record);
}

}  // namespace

// The newest file as the writer sees it: its record as it will be committed (end_position only
// moves at boundaries) and where the next event goes.
struct StoreWriter::FileState {
  FileInfo info;
  std::uint64_t next_position = 0;
  std::optional<std::int64_t> unfinished_first_timestamp;  // first event after the last boundary
  bool dirty = false;
};

struct StoreWriter::CommitOutcome {
  std::optional<ResumePoint> durable;  // what this round made durable (nullopt: nothing new)
  CommitStats stats;
};

struct StoreWriter::BuiltIndex {
  LmdbTxn txn;                     // open, holding the round's index
  std::optional<ResumePoint> end;  // the resume point it sets (nullopt: no new boundary)
};

// Runs one job at a time on its own thread: the writer hands it the event files' fdatasync while it
// commits the previous round's index itself (an LMDB write transaction stays on its thread).
class StoreWriter::SyncThread {
 public:
  SyncThread() : thread_([this] { loop(); }) {}
  SyncThread(const SyncThread&) = delete;
  SyncThread& operator=(const SyncThread&) = delete;
  ~SyncThread() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void start(std::function<Status()> job) {
    {
      std::lock_guard lock(mutex_);
      job_ = std::move(job);
      done_ = false;
    }
    wake_.notify_all();
  }

  Status wait() {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return done_; });
    return std::exchange(result_, ok_status());
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || job_; });
      if (!job_) return;
      auto job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      Status result = job();
      lock.lock();
      result_ = std::move(result);
      done_ = true;
      wake_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::function<Status()> job_;  // guarded by mutex_
  Status result_;                // guarded by mutex_
  bool done_ = true;             // guarded by mutex_
  bool stopping_ = false;        // guarded by mutex_
  std::thread thread_;
};

Result<std::unique_ptr<StoreWriter>> StoreWriter::start(BinlogStore& store, Options options,
                                                        ProgressCallback on_progress,
                                                        CommitObserver on_commit) {
  if (store.read_only()) return make_error("the store in {} is open read-only: no writer", store.directory());
  options.max_run_bytes = std::clamp<std::size_t>(options.max_run_bytes, 1, std::size_t{1} << 30);
  if (store.has_writer_.exchange(true)) {
    return make_error("the store in {} already has a writer: a store has one writer at a time",
                      store.directory());
  }
  if (options.tune_malloc) {
    static std::once_flag tuned;
    std::call_once(tuned, [] {
      mallopt(M_MMAP_THRESHOLD, 32 << 20);
      mallopt(M_TRIM_THRESHOLD, 256 << 20);
    });
  }
  std::unique_ptr<StoreWriter> writer(
      new StoreWriter(store, options, std::move(on_progress), std::move(on_commit)));
  if (store.sync_mode() == SyncMode::kCommit) writer->syncer_ = std::make_unique<SyncThread>();
  BRELAY_TRY(writer->load_state());
  writer->progress_.durable_end = writer->published_end_;
  writer->thread_ = std::thread([w = writer.get()] { w->run(); });
  return writer;
}

StoreWriter::StoreWriter(BinlogStore& store, Options options, ProgressCallback on_progress,
                         CommitObserver on_commit)
    : store_(store),
      options_(options),
      on_progress_(std::move(on_progress)),
      on_commit_(std::move(on_commit)) {}

StoreWriter::~StoreWriter() {
  (void)stop();
  store_.has_writer_ = false;
}

Status StoreWriter::load_state() {
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(store_.env_));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor files, LmdbCursor::open(txn, store_.dbs_.files));
  BRELAY_ASSIGN_OR_RETURN(auto newest, files.last());
  file_.reset();
  next_file_seq_ = 1;
  if (newest) {
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(newest->key));
    BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(newest->value));
    file_ = std::make_unique<FileState>();
    file_->info = to_file_info(seq, record);
    file_->next_position = record.end_position;
    next_file_seq_ = seq + 1;
    BRELAY_ASSIGN_OR_RETURN(appender_, store_.event_files_->open_for_append(seq));
  } else {
    appender_ = EventFileAppender();
  }
  finished_appenders_.clear();
  appender_written_ = false;
  pending_txn_.reset();
  pending_end_.reset();
  BRELAY_ASSIGN_OR_RETURN(auto resume, read_resume_record(txn, store_.dbs_));
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

Status StoreWriter::validate(const WriteBatch& batch, AdmissionState& state) const {
  const std::size_t max_key = store_.env_.max_key_size();
  for (const WriteBatch::Op& op : batch.ops_) {
    switch (op.kind) {
      case WriteBatch::OpKind::kBeginFile: {
        const WriteBatch::File& file = batch.files_[op.index];
        if (file.name.empty() || file.name.size() > max_key) {
          return make_error("a binlog file name must have 1 to {} bytes, '{}' has {}", max_key, file.name,
                            file.name.size());
        }
        if (state.has_file && state.next_position != state.last_boundary) {
          return make_error(
              "file {} cannot begin while a transaction of {} is unfinished (its events from position {} "
              "on): "
              "end or abandon the transaction first",
              file.name, state.file, state.last_boundary);
        }
        if (state.has_file && file.name == state.file) {
          return make_error("file {} has already begun: a file begins once", file.name);
        }
        BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(store_.env_));
        BRELAY_ASSIGN_OR_RETURN(auto stored, txn.get(store_.dbs_.file_names, as_bytes(file.name)));
        if (stored)
          return make_error("the store already holds a file named {}: a file begins once", file.name);
        state = AdmissionState{true, file.name, file.first_position, file.first_position, false};
        break;
      }
      case WriteBatch::OpKind::kEvent: {
        const WriteBatch::Event& event = batch.events_[op.index];
        if (!state.has_file) {
          return make_error("an event for position {} arrived before any file began: begin a file first",
                            event.position);
        }
        if (state.closed) {
          return make_error(
              "file {} has ended, yet an event for position {} arrived: begin the next file first",
              state.file, event.position);
        }
        if (event.size == 0 || event.size > std::numeric_limits<std::uint32_t>::max()) {
          return make_error("the event at {}:{} has {} bytes; events have 1 byte to 4 GiB", state.file,
                            event.position, event.size);
        }
        if (event.position != state.next_position) {
          return make_error(
              "the event for {}:{} does not follow the previous one, which ends at {}: positions in a file "
              "are "
              "contiguous",
              state.file, event.position, state.next_position);
        }
        if (event.gtid_size > max_key) {
          return make_error(
              "the GTID of the transaction at {}:{} has {} bytes, more than the {} a key may have",
              state.file, event.position, event.gtid_size, max_key);
        }
        state.next_position += event.size;
        if (event.boundary) state.last_boundary = state.next_position;
        break;
      }
      case WriteBatch::OpKind::kEndFile:
        if (!state.has_file || state.closed) return make_error("no file is open to end");
        if (state.next_position != state.last_boundary) {
          return make_error("file {} cannot end inside a transaction (its events from position {} on)",
                            state.file, state.last_boundary);
        }
        state.closed = true;
        break;
      case WriteBatch::OpKind::kAbandonTransaction: state.next_position = state.last_boundary; break;
      case WriteBatch::OpKind::kPutMeta: {
        const std::string& key = batch.metas_[op.index].key;
        if (key.empty() || key.size() > max_key) {
          return make_error("a relay metadata key must have 1 to {} bytes, '{}' has {}", max_key, key,
                            key.size());
        }
        break;
      }
    }
  }
  return {};
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

void StoreWriter::retry_now() {
  {
    std::lock_guard lock(mutex_);
    retry_requested_ = true;
  }
  wake_.notify_all();
}

void StoreWriter::request_purge(PurgeRequest request, PurgeCallback done) {
  {
    std::lock_guard lock(mutex_);
    purge_jobs_.push_back(PurgeJob{std::move(request), std::move(done)});
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
}

void StoreWriter::run_purges(std::unique_lock<std::mutex>& lock) {
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
    if (pending_txn_ && !purge_jobs_.empty()) {
      // A purge writes in its own transaction: the pending one commits first.
      lock.unlock();
      Status finished = finish_pending();
      if (!finished) fail(std::move(finished).error());
      lock.lock();
    }
    run_purges(lock);
    if (!progress_.accepting) {
      if (stopping_) break;
      if (fatal_) {
        wake_.wait(lock, [&] { return stopping_ || !purge_jobs_.empty(); });
        continue;
      }
      wake_.wait_for(lock, options_.retry_interval,
                     [&] { return stopping_ || retry_requested_ || !purge_jobs_.empty(); });
      if (stopping_ || !purge_jobs_.empty()) continue;
      const bool forced = std::exchange(retry_requested_, false);
      lock.unlock();
      const bool resumed = (forced || ready_to_resume()) && resume();
      lock.lock();
      if (resumed) {
        progress_.accepting = true;
        progress_.error.reset();
        progress_.restarts += 1;
        progress_.durable_end = published_end_;
        lock.unlock();
        notify();
        lock.lock();
      }
      continue;
    }
    if (queue_.empty()) {
      if (stopping_) break;
      wake_.wait(lock,
                 [&] { return stopping_ || !queue_.empty() || !purge_jobs_.empty() || retry_requested_; });
      retry_requested_ = false;
      continue;
    }
    std::deque<WriteBatch> batches;
    std::size_t taken = 0;
    while (!queue_.empty() && (batches.empty() || taken < options_.max_commit_bytes)) {
      taken += queue_.front().byte_size();
      batches.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_bytes_ -= taken;
    const bool release_producer = progress_.queue_full && queued_bytes_ < options_.queue_limit_bytes;
    if (release_producer) progress_.queue_full = false;
    lock.unlock();
    if (release_producer) notify();
    auto outcome = commit(batches);
    if (outcome) {
      after_commit(*outcome);
    } else {
      fail(std::move(outcome).error());
    }
    for (WriteBatch& batch : batches)
      batch.clear();
    lock.lock();
    for (WriteBatch& batch : batches) {
      if (spare_bytes_ + batch.capacity_bytes() > options_.queue_limit_bytes) break;
      spare_bytes_ += batch.capacity_bytes();
      spare_batches_.push_back(std::move(batch));
    }
  }
}

namespace {

// The writer leaves this much of the map unused: a purge must be able to commit (LMDB copies every
// page it changes, and the free list it updates takes pages too) to make room after the map filled.
std::uint64_t map_headroom(std::uint64_t map_size) {
  return std::clamp<std::uint64_t>(map_size / 16, kMiB, 64 * kMiB);
}

}  // namespace

Status StoreWriter::check_map_room() const {
  const MDB_envinfo info = store_.env_.info();
  const std::uint64_t headroom = map_headroom(info.me_mapsize);
  const std::uint64_t used = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * store_.env_.page_size();
  if (info.me_mapsize > used && info.me_mapsize - used >= 2 * headroom) return {};
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t unused, store_.env_.unused_map_bytes());
  if (unused >= 2 * headroom) return {};
  return lmdb_error(MDB_MAP_FULL,
                    fmt::format("storing events ({} KiB of the map unused, {} KiB kept for purges)",
                                unused >> 10, headroom >> 10));
}

Result<StoreWriter::BuiltIndex> StoreWriter::build_index(const std::deque<WriteBatch>& batches,
                                                         CommitStats& stats) {
  const StoreDatabases& dbs = store_.dbs_;
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(store_.env_));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor events, LmdbCursor::open(txn, dbs.events));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor gtid_positions, LmdbCursor::open(txn, dbs.gtid_positions));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor gtids, LmdbCursor::open(txn, dbs.gtids));
  // GTIDs of one source mostly arrive in key order: append them, until one does not sort last.
  bool gtids_in_order = true;
  const std::int64_t now = store_.now();
  PendingRun run;
  // The boundary that ends this commit's last complete transaction, if it has one.
  struct Boundary {
    std::uint32_t file_seq;
    std::uint64_t position;
    std::int64_t timestamp;
    ByteView executed_gtid_set;
  };
  std::optional<Boundary> boundary;
  std::string boundary_file;  // the name of boundary->file_seq (a later file may have begun since)

  for (const WriteBatch& batch : batches) {
    for (const WriteBatch::Op& op : batch.ops_) {
      switch (op.kind) {
        case WriteBatch::OpKind::kBeginFile: {
          BRELAY_TRY(write_index(events, run));
          if (file_) {
            file_->info.closed = true;
            BRELAY_TRY(put_file_record(txn, dbs, file_->info));
          }
          const WriteBatch::File& start = batch.files_[op.index];
          auto state = std::make_unique<FileState>();
          state->info.seq = next_file_seq_++;
          state->info.name = start.name;
          state->info.first_position = start.first_position;
          state->info.end_position = start.first_position;
          state->info.created_time = now;
          state->info.last_write_time = now;
          state->info.format_description = start.format_description;
          state->info.previous_gtids = start.previous_gtids;
          state->next_position = start.first_position;
          state->dirty = true;
          const auto seq_key = encode_file_key(state->info.seq);
          if (auto named = txn.put(dbs.file_names, as_bytes(start.name), seq_key, MDB_NOOVERWRITE); !named) {
            if (named.error().code() == MDB_KEYEXIST) {
              return make_error("the store already holds a file named {}: a file begins once", start.name);
            }
            return std::move(named).error();
          }
          file_ = std::move(state);
          current_transaction_gtid_.clear();
          break;
        }
        case WriteBatch::OpKind::kEvent: {
          const WriteBatch::Event& event = batch.events_[op.index];
          const ByteView bytes = batch.event_bytes(event);
          stats.events += 1;
          stats.event_bytes += bytes.size();
          const std::uint32_t seq = file_->info.seq;
          if (!run.empty() && (run.file_seq != seq || run.bytes + bytes.size() > options_.max_run_bytes)) {
            BRELAY_TRY(write_index(events, run));
          }
          if (run.empty()) {
            run.file_seq = seq;
            run.first_position = event.position;
          }
          run.add(bytes);
          if (const ByteView gtid = batch.event_gtid(event); !gtid.empty()) {
            const auto key = EventKey{seq, event.position}.encode();
            if (gtids_in_order) {
              Status appended = gtids.put(gtid, key, MDB_APPEND);
              if (!appended && appended.error().code() != MDB_KEYEXIST) return std::move(appended).error();
              gtids_in_order = static_cast<bool>(appended);
            }
            if (!gtids_in_order) BRELAY_TRY(gtids.put(gtid, key));
            BRELAY_TRY(gtid_positions.put(key, gtid, MDB_APPEND));
            current_transaction_gtid_.assign(gtid.begin(), gtid.end());
          }
          if (!file_->unfinished_first_timestamp) file_->unfinished_first_timestamp = event.timestamp;
          file_->next_position = event.position + bytes.size();
          if (event.boundary) {
            FileInfo& info = file_->info;
            info.end_position = file_->next_position;
            if (info.first_timestamp == 0) info.first_timestamp = *file_->unfinished_first_timestamp;
            info.last_timestamp = event.timestamp;
            info.last_write_time = now;
            file_->unfinished_first_timestamp.reset();
            file_->dirty = true;
            if (!current_transaction_gtid_.empty()) {
              std::swap(last_gtid_, current_transaction_gtid_);  // both keep their buffers
              current_transaction_gtid_.clear();
            }
            if (!boundary || boundary->file_seq != seq) boundary_file = info.name;
            boundary = Boundary{seq, info.end_position, event.timestamp, batch.event_executed_set(event)};
          }
          break;
        }
        case WriteBatch::OpKind::kEndFile:
          BRELAY_TRY(write_index(events, run));
          file_->info.closed = true;
          file_->dirty = true;
          break;
        case WriteBatch::OpKind::kAbandonTransaction: {
          BRELAY_TRY(write_index(events, run));
          if (file_ && file_->next_position != file_->info.end_position) {
            const EventKey from{file_->info.seq, file_->info.end_position};
            const EventKey until{file_->info.seq + 1, 0};
            BRELAY_TRY(erase_events(txn, dbs, from, until));
            BRELAY_TRY(erase_gtids(txn, dbs, from, until));
            file_->next_position = file_->info.end_position;
            file_->unfinished_first_timestamp.reset();
          }
          current_transaction_gtid_.clear();
          break;
        }
        case WriteBatch::OpKind::kPutMeta: {
          const WriteBatch::Meta& meta = batch.metas_[op.index];
          BRELAY_TRY(txn.put(dbs.relay_meta, as_bytes(meta.key), meta.value));
          break;
        }
      }
    }
  }
  BRELAY_TRY(write_index(events, run));
  if (file_ && file_->dirty) {
    BRELAY_TRY(put_file_record(txn, dbs, file_->info));
    file_->dirty = false;
  }
  std::optional<ResumePoint> new_end;
  if (boundary) {
    ResumeRecordView record;
    record.file_seq = boundary->file_seq;
    record.position = boundary->position;
    record.timestamp = boundary->timestamp;
    record.file_name = boundary_file;
    record.last_gtid = last_gtid_;
    record.executed_gtid_set = boundary->executed_gtid_set;
    const Bytes encoded = record.encode();
    BRELAY_TRY(txn.put(dbs.meta, as_bytes(meta_key::kResumePoint), encoded));
    new_end = to_resume_point(record);
  }
  return BuiltIndex{std::move(txn), std::move(new_end)};
}

Status StoreWriter::write_event_bytes(const std::deque<WriteBatch>& batches) {
  const bool sync = store_.sync_mode() == SyncMode::kCommit;
  std::uint32_t next_seq = next_file_seq_;
  std::vector<ByteView> pieces;  // contiguous in the file from write_position on
  std::uint64_t write_position = 0;
  auto flush = [&]() -> Status {
    if (pieces.empty()) return {};
    BRELAY_TRY(appender_.write_at(write_position, pieces));
    appender_written_ = true;
    pieces.clear();
    return {};
  };
  for (const WriteBatch& batch : batches) {
    for (const WriteBatch::Op& op : batch.ops_) {
      switch (op.kind) {
        case WriteBatch::OpKind::kBeginFile: {
          BRELAY_TRY(flush());
          if (appender_.is_open() && appender_written_) finished_appenders_.push_back(std::move(appender_));
          BRELAY_ASSIGN_OR_RETURN(appender_, store_.event_files_->create(next_seq++, sync));
          appender_written_ = false;
          break;
        }
        case WriteBatch::OpKind::kEvent: {
          const WriteBatch::Event& event = batch.events_[op.index];
          const ByteView bytes = batch.event_bytes(event);
          if (!pieces.empty() && pieces.back().data() + pieces.back().size() == bytes.data()) {
            pieces.back() = ByteView(pieces.back().data(), pieces.back().size() + bytes.size());
          } else {
            if (pieces.empty()) write_position = event.position;
            pieces.push_back(bytes);
          }
          break;
        }
        case WriteBatch::OpKind::kAbandonTransaction:
          // The next event is written again from the transaction's start.
          BRELAY_TRY(flush());
          break;
        case WriteBatch::OpKind::kEndFile:
        case WriteBatch::OpKind::kPutMeta: break;
      }
    }
  }
  return flush();
}

Status StoreWriter::start_sync() {
  if (finished_appenders_.empty() && !appender_written_) return {};
  // The sync thread gets the ended files' appenders and a duplicate descriptor of the current
  // one, so the writer may go on writing to it, or close it when a new file begins, meanwhile.
  std::shared_ptr<EventFileAppender::SyncTarget> current;
  if (appender_written_) {
    BRELAY_ASSIGN_OR_RETURN(auto target, appender_.sync_target());
    current = std::make_shared<EventFileAppender::SyncTarget>(std::move(target));
  }
  auto finished = std::make_shared<std::vector<EventFileAppender>>(std::move(finished_appenders_));
  finished_appenders_.clear();
  appender_written_ = false;
  sync_in_flight_ = true;
  syncer_->start([finished = std::move(finished), current = std::move(current)]() -> Status {
    for (EventFileAppender& file : *finished)
      BRELAY_TRY(file.sync());
    if (current) BRELAY_TRY(current->sync());
    return {};
  });
  return {};
}

Status StoreWriter::wait_sync() {
  if (!sync_in_flight_) return {};
  sync_in_flight_ = false;
  return syncer_->wait();
}

Result<std::optional<ResumePoint>> StoreWriter::commit_pending() {
  LmdbTxn txn = std::move(*pending_txn_);
  pending_txn_.reset();
  const std::uint64_t txn_id = txn.id();
  BRELAY_TRY(txn.commit());
  // With MDB_NOMETASYNC the commit fdatasynced its pages, which made the previous commit's meta
  // page durable; its own meta page is durable at the next sync. LMDB skips an empty commit.
  std::optional<ResumePoint> durable;
  if (store_.env_.info().me_last_txnid == txn_id) durable = unsynced_end_;
  unsynced_end_ = pending_end_;
  committed_end_ = pending_end_;
  return durable;
}

Result<StoreWriter::CommitOutcome> StoreWriter::commit(std::deque<WriteBatch>& batches) {
  const auto started = std::chrono::steady_clock::now();
  CommitOutcome outcome;
  BRELAY_TRY(check_map_room());
  // While the previous round's bytes may still be syncing.
  BRELAY_TRY(write_event_bytes(batches));
  const bool durable_mode = store_.sync_mode() == SyncMode::kCommit;
  if (!durable_mode) {
    finished_appenders_.clear();
    appender_written_ = false;
    BRELAY_ASSIGN_OR_RETURN(BuiltIndex built, build_index(batches, outcome.stats));
    const auto committing = std::chrono::steady_clock::now();
    BRELAY_TRY(built.txn.commit());
    if (built.end) committed_end_ = std::move(built.end);
    outcome.durable = committed_end_;
    const auto committed = std::chrono::steady_clock::now();
    outcome.stats.commit_time = committed - committing;
    outcome.stats.total_time = committed - started;
    return outcome;
  }
  // The previous round's bytes are on disk: its index may commit, while this round's bytes sync.
  const auto syncing = std::chrono::steady_clock::now();
  BRELAY_TRY(wait_sync());
  BRELAY_TRY(start_sync());
  if (pending_txn_) {
    BRELAY_ASSIGN_OR_RETURN(outcome.durable, commit_pending());
  }
  auto commit_time = std::chrono::steady_clock::now() - syncing;
  BRELAY_ASSIGN_OR_RETURN(BuiltIndex built, build_index(batches, outcome.stats));
  pending_end_ = built.end ? std::move(built.end) : committed_end_;
  pending_txn_.emplace(std::move(built.txn));
  bool pipelined = false;
  {
    std::lock_guard lock(mutex_);
    pipelined = !queue_.empty();
  }
  if (!pipelined) {
    // Nothing else waits: make this round durable and publish it now.
    const auto finishing = std::chrono::steady_clock::now();
    BRELAY_TRY(wait_sync());
    BRELAY_TRY(commit_pending());
    BRELAY_TRY(store_.env_.sync(true));
    unsynced_end_.reset();
    outcome.durable = committed_end_;
    commit_time += std::chrono::steady_clock::now() - finishing;
  }
  outcome.stats.commit_time = commit_time;
  outcome.stats.total_time = std::chrono::steady_clock::now() - started;
  return outcome;
}

Status StoreWriter::finish_pending() {
  if (!pending_txn_) return {};
  BRELAY_TRY(wait_sync());
  BRELAY_TRY(commit_pending());
  BRELAY_TRY(store_.env_.sync(true));
  unsynced_end_.reset();
  if (committed_end_ && committed_end_ != published_end_) {
    published_end_ = committed_end_;
    store_.publish(published_end_);
  }
  return {};
}

void StoreWriter::after_commit(const CommitOutcome& outcome) {
  if (outcome.durable && outcome.durable != published_end_) {
    published_end_ = outcome.durable;
    store_.publish(published_end_);
  }
  {
    std::lock_guard lock(mutex_);
    progress_.commits += 1;
    progress_.durable_end = published_end_;
  }
  if (on_commit_) on_commit_(outcome.stats);
  notify();
}

void StoreWriter::fail(Error error) {
  // The pending index was never published: drop it with the queue (after its sync, which may still
  // use the event files); the producer restarts from the durable end.
  (void)wait_sync();
  pending_txn_.reset();
  // The last good commit may still have an unsynced meta page: make it durable and publish it, so
  // the durable end the producer restarts from is as late as it can be.
  if (store_.sync_mode() == SyncMode::kCommit && committed_end_ != published_end_ && store_.env_.sync(true)) {
    published_end_ = committed_end_;
    store_.publish(published_end_);
  }
  const std::uint64_t free_bytes = store_.filesystem_free_bytes();
  const int code = error.code();
  const bool map_full = code == MDB_MAP_FULL;
  fatal_ = code == MDB_PANIC;
  // LMDB reports a short write (the usual way a full filesystem shows) as EIO.
  const bool disk_full =
      code == ENOSPC || code == EDQUOT || (code == EIO && free_bytes < options_.resume_free_bytes);
  std::string what;
  if (disk_full) {
    what = fmt::format("the filesystem of {} is full ({} MiB free; {})", store_.directory(),
                       free_bytes / kMiB, error.message());
  } else if (map_full) {
    what = fmt::format("the store's {} MiB map is full ({})", store_.env_.info().me_mapsize / kMiB,
                       error.message());
  } else {
    what = fmt::format("{} ({} MiB free on the filesystem of {})", error.message(), free_bytes / kMiB,
                       store_.directory());
  }
  std::string next_step;
  if (fatal_) {
    next_step = "the store must be reopened: restart binlog-relay";
  } else if (map_full) {
    next_step = "writing resumes when a purge frees room in the map";
  } else {
    next_step = fmt::format("writing resumes when {} MiB are free", options_.resume_free_bytes / kMiB);
  }
  Error stopped(
      fmt::format("storing binlog events failed: {}; the writer stopped accepting events and readers keep "
                  "working; {}",
                  what, next_step),
      code);
  {
    std::lock_guard lock(mutex_);
    progress_.accepting = false;
    progress_.error = std::move(stopped);
    progress_.queue_full = false;
    progress_.durable_end = published_end_;
    queue_.clear();
    queued_bytes_ = 0;
    purges_at_failure_ = store_.purges_.load();
  }
  notify();
}

bool StoreWriter::ready_to_resume() const {
  if (store_.purges_.load() != purges_at_failure_) return true;
  std::optional<Error> error;
  {
    std::lock_guard lock(mutex_);
    error = progress_.error;
  }
  if (error && error->code() == MDB_MAP_FULL) {
    auto unused = store_.env_.unused_map_bytes();
    return unused && *unused >= options_.resume_free_bytes && check_map_room();
  }
  return store_.filesystem_free_bytes() >= options_.resume_free_bytes;
}

bool StoreWriter::resume() {
  auto trimmed = [&]() -> Status {
    BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(store_.env_));
    BRELAY_TRY(trim_to_resume_point(txn, store_.dbs_));
    BRELAY_TRY(txn.commit());
    BRELAY_TRY(store_.sync_after_write());
    BRELAY_TRY(store_.reconcile_event_files());
    return load_state();
  }();
  if (!trimmed) return false;
  store_.publish(published_end_);
  return true;
}

}  // namespace brelay::storage
