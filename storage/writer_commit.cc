// StoreWriter's group commit pipeline (store_writer.h explains the rounds). The order that makes it
// safe: event bytes are on disk before the LMDB commit that indexes them writes its meta page, and
// nothing is published before its meta page is on disk. A lone round takes writer_lone_commit.cc's
// path instead: one sync of its event file and commit record.
#include <algorithm>
#include <chrono>
#include <utility>

#include "storage/store_internals.h"
#include "storage/store_writer.h"

namespace brelay::storage {
namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

// The writer leaves this much of the map unused: a purge must be able to commit (LMDB copies every
// page it changes, and the free list it updates takes pages too) to make room after the map filled.
std::uint64_t map_headroom(std::uint64_t map_size) {
  return std::clamp<std::uint64_t>(map_size / 16, kMiB, 64 * kMiB);
}

}  // namespace

Result<StoreWriter::CommitOutcome> StoreWriter::commit(std::deque<WriteBatch>& batches) {
  const auto started = std::chrono::steady_clock::now();
  CommitOutcome outcome;
  BRELAY_TRY(check_map_room());
  if (store_.sync_mode() == SyncMode::kCommit && lone_round(batches)) return commit_lone(batches, started);
  // While the previous round's bytes may still be syncing.
  BRELAY_TRY(write_event_bytes(batches));
  // On the crypto helper, while the previous round's index commits (unless the write started them).
  if (!macs_while_written_) start_run_macs(batches);
  if (store_.sync_mode() != SyncMode::kCommit) return commit_without_sync(batches, started);
  // The previous round's bytes are on disk: its index may commit, while this round's bytes sync.
  const auto syncing = std::chrono::steady_clock::now();
  BRELAY_TRY(wait_sync());
  BRELAY_TRY(start_sync());
  if (pending_txn_) {
    BRELAY_ASSIGN_OR_RETURN(outcome.durable, commit_pending());
  }
  auto commit_time = std::chrono::steady_clock::now() - syncing;
  BRELAY_ASSIGN_OR_RETURN(BuiltIndex built, build_index(batches, outcome.stats));
  outcome.stats.event_bytes_encrypted_ahead = encrypted_ahead_bytes_;
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
    BRELAY_TRY(internals_.env().sync(true));
    unsynced_end_.reset();
    outcome.durable = committed_end_;
    commit_time += std::chrono::steady_clock::now() - finishing;
  }
  outcome.stats.commit_time = commit_time;
  outcome.stats.total_time = std::chrono::steady_clock::now() - started;
  return outcome;
}

Result<StoreWriter::CommitOutcome> StoreWriter::commit_without_sync(
    std::deque<WriteBatch>& batches, std::chrono::steady_clock::time_point started) {
  CommitOutcome outcome;
  finished_appenders_.clear();
  appender_written_ = false;
  BRELAY_ASSIGN_OR_RETURN(BuiltIndex built, build_index(batches, outcome.stats));
  outcome.stats.event_bytes_encrypted_ahead = encrypted_ahead_bytes_;
  const auto committing = std::chrono::steady_clock::now();
  BRELAY_TRY(built.txn.commit());
  if (built.end) committed_end_ = std::move(built.end);
  outcome.durable = committed_end_;
  const auto committed = std::chrono::steady_clock::now();
  outcome.stats.commit_time = committed - committing;
  outcome.stats.total_time = committed - started;
  return outcome;
}

Result<std::optional<ResumePoint>> StoreWriter::commit_pending() {
  LmdbTxn txn = std::move(*pending_txn_);
  pending_txn_.reset();
  const std::uint64_t txn_id = txn.id();
  BRELAY_TRY(txn.commit());
  // With MDB_NOMETASYNC the commit fdatasynced its pages, which made the previous commit's meta
  // page durable; its own meta page is durable at the next sync. LMDB skips an empty commit.
  std::optional<ResumePoint> durable;
  if (internals_.env().info().me_last_txnid == txn_id) durable = unsynced_end_;
  unsynced_end_ = pending_end_;
  committed_end_ = pending_end_;
  return durable;
}

Status StoreWriter::finish_pending() {
  if (!pending_txn_) return {};
  BRELAY_TRY(wait_sync());
  BRELAY_TRY(commit_pending());
  BRELAY_TRY(internals_.env().sync(true));
  unsynced_end_.reset();
  if (committed_end_ && committed_end_ != published_end_) {
    published_end_ = committed_end_;
    internals_.publish(published_end_);
  }
  return {};
}

Status StoreWriter::check_map_room() const {
  const LmdbEnv& env = internals_.env();
  const MDB_envinfo info = env.info();
  const std::uint64_t headroom = map_headroom(info.me_mapsize);
  const std::uint64_t used = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * env.page_size();
  if (info.me_mapsize > used && info.me_mapsize - used >= 2 * headroom) return {};
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t unused, env.unused_map_bytes());
  if (unused >= 2 * headroom) return {};
  return lmdb_error(MDB_MAP_FULL,
                    fmt::format("storing events ({} KiB of the map unused, {} KiB kept for purges)",
                                unused >> 10, headroom >> 10));
}

void StoreWriter::after_commit(const CommitOutcome& outcome) {
  if (outcome.durable && outcome.durable != published_end_) {
    published_end_ = outcome.durable;
    internals_.publish(published_end_);
  }
  {
    std::lock_guard lock(mutex_);
    progress_.commits += 1;
    progress_.durable_end = published_end_;
    progress_.synced_end = published_end_;
  }
  if (on_commit_) on_commit_(outcome.stats);
  notify();
}

}  // namespace brelay::storage
