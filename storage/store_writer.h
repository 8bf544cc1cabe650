// StoreWriter: the store's single writer. It owns one thread that takes everything queued, writes it
// in one LMDB transaction (group commit), makes it durable per the store's sync mode, and only then
// publishes the new durable end to readers and to the producer. Nothing is visible to readers before
// the commit that holds it is on disk, and readers never see past the last complete transaction.
//
// The producer (the upstream, on the libuv loop thread) calls submit() with WriteBatches; submit()
// validates a batch against what was queued before it (contiguous positions, an open file, sizes),
// queues it and returns at once. The queue is bounded in bytes: when a submit() leaves it over the
// bound, Admission::queue_full tells the producer to stop reading its socket until a progress
// callback reports queue_full == false. The writer may commit the first part of a long transaction
// to keep memory bounded; such a part is never published, and recovery trims it after a crash.
//
// Group commit and durability (SyncMode::kCommit): each commit costs one fdatasync of the data
// pages; the meta page LMDB writes after it is made durable by the next commit's fdatasync when
// more work is queued (the commit is published one commit later), or by an immediate forced sync
// when the queue is empty (a lone transaction costs two syncs, as with LMDB's default). So a busy
// writer pays one sync per group and publishes only what is on disk. SyncMode::kNone publishes
// right after the commit.
//
// Errors (full disk, full map, I/O errors) stop the writer: the failed commit is rolled back, what
// is queued is dropped (none of it was acknowledged), submit() returns the error, and a progress
// callback carries it. Readers keep working. The writer then retries on its own every
// retry_interval once there is room again (resume_free_bytes free on the filesystem, or in the map
// for a full map, or right after a purge freed pages; retry_now() forces an attempt): it trims
// whatever follows the durable end, reports accepting == true with the durable end, and the
// producer restarts from there (Progress::restarts counts these restarts). MDB_PANIC (LMDB can no
// longer write the environment) never resumes; the relay must reopen the store.
//
// Threads: submit(), progress(), retry_now(), request_purge() and stop() may be called from any one
// producer thread (in practice the loop thread). The progress callback and purge callbacks run on
// the writer thread and must be quick and must not call stop(): a uv_async_send, a flag, a queue
// push. The writer borrows the store, which must outlive it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "storage/binlog_store.h"
#include "storage/retention.h"
#include "storage/store_types.h"
#include "storage/write_batch.h"

namespace brelay::storage {

class StoreWriter {
 public:
  struct Options {
    // Soft bound on queued bytes (WriteBatch::byte_size); a submit past it still succeeds but
    // returns queue_full.
    std::size_t queue_limit_bytes = std::size_t{64} << 20;
    // Consecutive events of one commit are stored as runs of up to this many bytes (an event
    // larger than this is a run of its own). 1 stores every event under its own key.
    std::size_t max_run_bytes = std::size_t{256} << 10;
    // How often a stopped writer checks whether it can resume.
    std::chrono::milliseconds retry_interval{1000};
    // Free bytes (on the filesystem, or in the map after MDB_MAP_FULL) needed before it resumes.
    std::uint64_t resume_free_bytes = std::uint64_t{64} << 20;
  };

  struct Progress {
    std::optional<ResumePoint> durable_end;  // the newest published durable end
    std::uint64_t commits = 0;               // group commits so far
    bool accepting = true;                   // false while stopped by an error
    std::optional<Error> error;              // why it stopped (cleared when it resumes)
    bool queue_full = false;                 // the producer must wait for room
    std::uint64_t restarts = 0;              // times writing resumed after an error
  };
  using ProgressCallback = std::function<void(const Progress&)>;
  using PurgeCallback = std::function<void(Result<PurgeReport>)>;

  struct Admission {
    bool queue_full = false;  // stop reading until a progress callback says queue_full == false
  };

  // Starts the writer thread on `store`, continuing from its durable end. At most one writer per
  // store.
  static Result<std::unique_ptr<StoreWriter>> start(BinlogStore& store, Options options,
                                                    ProgressCallback on_progress = {});

  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;
  ~StoreWriter();  // stop()

  // Validates and queues `batch` (an empty batch is a no-op). Errors: the batch breaks the rules in
  // write_batch.h (nothing of it is queued), or the writer is stopped (the error that stopped it).
  Result<Admission> submit(WriteBatch batch);

  Progress progress() const;
  // Asks a stopped writer to try resuming now instead of at its next retry interval.
  void retry_now();
  // Runs a purge on the writer thread, between commits (also while stopped: purging is how a full
  // map makes room); `done` gets the report on the writer thread.
  void request_purge(PurgeRequest request, PurgeCallback done);
  // Commits what is queued (unless stopped by an error), stops the thread and returns the error that
  // stopped the writer, if any. Idempotent.
  Status stop();

 private:
  struct FileState;
  struct CommitOutcome;
  // The stream as it will be once everything queued is written: what the next batch must follow.
  struct AdmissionState {
    bool has_file = false;
    std::string file;
    std::uint64_t next_position = 0;
    std::uint64_t last_boundary = 0;  // end of the file's last complete transaction
    bool closed = false;
  };
  struct PurgeJob {
    PurgeRequest request;
    PurgeCallback done;
  };

  StoreWriter(BinlogStore& store, Options options, ProgressCallback on_progress);
  Status load_state();
  void run();
  Status validate(const WriteBatch& batch, AdmissionState& state) const;
  Result<CommitOutcome> commit(std::deque<WriteBatch>& batches);
  void after_commit(const CommitOutcome& outcome);
  void fail(Error error);
  bool ready_to_resume() const;
  // Trims what follows the durable end and reloads the writer's state; false when that failed.
  bool resume();
  void run_purges(std::unique_lock<std::mutex>& lock);
  void notify();

  BinlogStore& store_;  // not owned
  const Options options_;
  const ProgressCallback on_progress_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<WriteBatch> queue_;     // guarded by mutex_
  std::size_t queued_bytes_ = 0;     // guarded by mutex_
  AdmissionState admission_;         // guarded by mutex_: state after everything queued
  std::deque<PurgeJob> purge_jobs_;  // guarded by mutex_
  Progress progress_;                // guarded by mutex_
  bool stopping_ = false;            // guarded by mutex_
  bool retry_requested_ = false;     // guarded by mutex_

  // Writer-thread state: the newest file and the durable-end bookkeeping.
  std::unique_ptr<FileState> file_;
  std::uint32_t next_file_seq_ = 1;
  std::optional<ResumePoint> committed_end_;  // as of the last commit
  std::optional<ResumePoint> published_end_;  // what readers see
  std::optional<ResumePoint> unsynced_end_;   // committed, meta page not yet known durable
  Bytes current_transaction_gtid_;
  Bytes last_gtid_;
  std::uint64_t purges_at_failure_ = 0;
  bool fatal_ = false;

  std::thread thread_;
};

}  // namespace brelay::storage
