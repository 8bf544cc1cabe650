// StoreWriter's failure and resume policy: an error (full disk, full map, I/O error) stops the
// writer; what is queued is dropped (none of it was acknowledged) and readers keep working. The
// writer resumes on its own once there is room again, from the durable end; MDB_PANIC never
// resumes.
#include <cerrno>
#include <string>
#include <utility>

#include "storage/lmdb_txn.h"
#include "storage/store_internals.h"
#include "storage/store_recovery.h"
#include "storage/store_writer.h"

namespace brelay::storage {
namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

// What stopped the writer, said so that an operator knows what to do.
Error describe_failure(const Error& error, const StoreInternals& store, std::uint64_t free_bytes,
                       std::uint64_t resume_free_bytes) {
  const int code = error.code();
  const bool map_full = code == MDB_MAP_FULL;
  // LMDB reports a short write (the usual way a full filesystem shows) as EIO.
  const bool disk_full = code == ENOSPC || code == EDQUOT || (code == EIO && free_bytes < resume_free_bytes);
  std::string what;
  if (disk_full) {
    what = fmt::format("the filesystem of {} is full ({} MiB free; {})", store.directory(), free_bytes / kMiB,
                       error.message());
  } else if (map_full) {
    what = fmt::format("the store's {} MiB map is full ({})", store.env().info().me_mapsize / kMiB,
                       error.message());
  } else {
    what = fmt::format("{} ({} MiB free on the filesystem of {})", error.message(), free_bytes / kMiB,
                       store.directory());
  }
  std::string next_step;
  if (code == MDB_PANIC) {
    next_step = "the store must be reopened: restart binlog-relay";
  } else if (map_full) {
    next_step = "writing resumes when a purge frees room in the map";
  } else {
    next_step = fmt::format("writing resumes when {} MiB are free", resume_free_bytes / kMiB);
  }
  return Error(
      fmt::format("storing binlog events failed: {}; the writer stopped accepting events and readers "
                  "keep working; {}",
                  what, next_step),
      code);
}

}  // namespace

void StoreWriter::fail(const Error& error) {
  // The pending index was never published: drop it with the queue (after its sync, which may still
  // use the event files); the producer restarts from the durable end.
  (void)wait_sync();
  wait_crypto_job();
  finish_run_macs();
  drop_ctr_ahead();  // the queued batches it was made for are dropped below
  pending_txn_.reset();
  lone_meta_unsynced_ = false;
  // The last good commit may still have an unsynced meta page: make it durable and publish it, so
  // the durable end the producer restarts from is as late as it can be.
  if (store_.sync_mode() == SyncMode::kCommit && committed_end_ != published_end_ &&
      internals_.env().sync(true)) {
    published_end_ = committed_end_;
    internals_.publish(published_end_);
  }
  fatal_ = error.code() == MDB_PANIC;
  Error stopped =
      describe_failure(error, internals_, internals_.filesystem_free_bytes(), options_.resume_free_bytes);
  {
    std::lock_guard lock(mutex_);
    progress_.accepting = false;
    progress_.error = std::move(stopped);
    progress_.queue_full = false;
    progress_.durable_end = published_end_;
    queue_.clear();
    queued_bytes_ = 0;
    purges_at_failure_ = internals_.purges();
  }
  notify();
}

void StoreWriter::wait_to_resume(std::unique_lock<std::mutex>& lock) {
  if (fatal_) {
    wake_.wait(lock, [&] { return stopping_ || has_jobs(); });
    return;
  }
  wake_.wait_for(lock, options_.retry_interval, [&] { return stopping_ || has_jobs(); });
  if (stopping_ || has_jobs()) return;
  lock.unlock();
  const bool resumed = ready_to_resume() && resume();
  lock.lock();
  if (!resumed) return;
  progress_.accepting = true;
  progress_.error.reset();
  progress_.restarts += 1;
  progress_.durable_end = published_end_;
  progress_.synced_end = published_end_;
  lock.unlock();
  notify();
  lock.lock();
}

bool StoreWriter::ready_to_resume() const {
  if (internals_.purges() != purges_at_failure_) return true;
  std::optional<Error> error;
  {
    std::lock_guard lock(mutex_);
    error = progress_.error;
  }
  if (error && error->code() == MDB_MAP_FULL) {
    auto unused = internals_.env().unused_map_bytes();
    return unused && *unused >= options_.resume_free_bytes && check_map_room();
  }
  return internals_.filesystem_free_bytes() >= options_.resume_free_bytes;
}

bool StoreWriter::resume() {
  auto trimmed = [&]() -> Status {
    BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(internals_.env()));
    BRELAY_TRY(trim_to_resume_point(txn, internals_.dbs()));
    BRELAY_TRY(txn.commit());
    BRELAY_TRY(internals_.sync_after_write());
    BRELAY_TRY(replay_lone_commit());
    BRELAY_TRY(reconcile_event_files(internals_));
    return load_state();
  }();
  if (!trimmed) return false;
  internals_.publish(published_end_);
  return true;
}

}  // namespace brelay::storage
