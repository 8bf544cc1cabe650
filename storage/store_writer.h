// StoreWriter: the store's single writer. It owns one thread that takes what is queued (up to
// max_commit_bytes), writes it in one LMDB transaction (group commit), makes it durable per the
// store's sync mode, and only then publishes the new durable end to readers and to the producer.
// Nothing is visible to readers before the commit that holds it is on disk, and readers never see
// past the last complete transaction.
//
// The producer (the upstream, on the libuv loop thread) fills WriteBatches (take_batch() hands out
// recycled ones) and calls submit(); submit() validates a batch against what was queued before it (contiguous
// positions, an open file, sizes), queues it and returns at once. The queue is bounded in bytes: when a
// submit() leaves it over the bound, Admission::queue_full tells the producer to stop reading its socket
// until a progress callback reports queue_full == false. The writer may commit the first part of a long
// transaction to keep memory bounded; such a part is never published, and recovery trims it after a crash.
//
// Group commit and durability (SyncMode::kCommit): a round takes what is queued, writes the
// events' bytes to their event files and fdatasyncs them, then builds the round's index (runs,
// GTIDs, file records, resume point) in an LMDB transaction. When nothing else waits, that
// transaction commits at once and is synced (MDB_NOMETASYNC commit + a sync of the meta page), and
// the round is published. When more work waits, the transaction stays open and the next round
// commits it while its own event bytes are synced on a second thread, so the two fdatasyncs of a
// busy writer overlap: the index commit syncs its pages (which makes the commit before it durable,
// meta page included) and writes its meta page unsynced. A busy writer therefore publishes a round
// two rounds later, and pays about one sync per round. The order that makes this safe: event bytes
// are on disk before the LMDB commit that indexes them writes its meta page, and nothing is
// published before its meta page is on disk. SyncMode::kNone commits each round at once and
// publishes right after.
//
// A lone commit (issue 17: a semi-sync source waits for every commit): when nothing else waits
// and the round only appends complete transactions to the newest file, its event bytes go to the
// file followed by a commit record (commit_record.h), and one fdatasync makes both durable. The
// round is then reported synced (Progress::synced_end: the semi-sync acknowledgement) while its
// index is committed (one more sync of LMDB's pages), published to readers, and its meta page
// synced before the next round writes, which would overwrite the record. Recovery indexes a
// recorded round whose LMDB commit was lost (replay_lone_commit). In an encrypted file the record
// is sealed with a MAC over the round's stored bytes, and only a round that needs no keystream
// segment takes this path.
//
// Errors (full disk, full map, I/O errors) stop the writer: the failed commit is rolled back, what
// is queued is dropped (none of it was acknowledged), submit() returns the error, and a progress
// callback carries it. Readers keep working. The writer then retries on its own every
// retry_interval once there is room again (resume_free_bytes free on the filesystem, or in the map
// for a full map, or right after a purge freed pages): it trims
// whatever follows the durable end, reports accepting == true with the durable end, and the
// producer restarts from there (Progress::restarts counts these restarts). MDB_PANIC (LMDB can no
// longer write the environment) never resumes; the relay must reopen the store.
//
// An encrypted file's keystream is never used twice: a write at a position the file may already
// hold bytes at under the nonce in force (events written again after an abandoned transaction, the
// first write after a failed round or a restart) starts a keystream segment under a fresh random
// nonce first (file_ciphers.h), recorded in the file record of the round that indexes the bytes.
//
// An encrypted store's writer has a crypto helper thread (a SyncThread like the one that syncs):
// a large write is AES-CTR encrypted there a chunk ahead of the writes that copy it into the page
// cache, and a round's run MACs are computed there while the previous round's index commits (the
// round's runs are cut from its batches by the same rules as build_index; a MAC the plan does not
// hold is computed on the writer thread). While rounds queue up, the same job then encrypts the
// next round's first batches (still queued) where they continue the file being appended to, so
// that round's write mostly copies ciphertext that is ready. When all of a round's last write is
// ready that way, the job starts before that write instead of after it, so the helper's AES-GMAC
// and AES-CTR run beside the writer's copy into the page cache. The writer does not write the round's
// ciphertext (ciphertexts_, the plan's buffers) or the helper's cipher contexts while a helper job
// may read or write them.
//
// Threads: submit(), progress(), request_purge() and stop() may be called from any one
// producer thread (in practice the loop thread). The progress callback and purge callbacks run on
// the writer thread and must be quick and must not call stop(): a uv_async_send, a flag, a queue
// push. The writer borrows the store, which must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "storage/binlog_store.h"
#include "storage/event_files.h"
#include "storage/file_ciphers.h"
#include "storage/lmdb_txn.h"
#include "storage/retention.h"
#include "storage/store_types.h"
#include "storage/write_batch.h"

namespace brelay::storage {

class StoreInternals;  // store_internals.h
class SyncThread;      // sync_thread.h

class StoreWriter {
 public:
  struct Options {
    // Soft bound on queued bytes (WriteBatch::byte_size); a submit past it still succeeds but
    // returns queue_full.
    std::size_t queue_limit_bytes = std::size_t{32} << 20;
    // A group commit takes queued batches until it holds this many bytes (at least one batch),
    // which bounds LMDB's dirty pages per transaction and keeps them warm in memory.
    std::size_t max_commit_bytes = std::size_t{8} << 20;
    // Consecutive events of one commit are stored as runs of up to this many bytes (an event
    // larger than this is a run of its own). 1 stores every event under its own key.
    std::size_t max_run_bytes = std::size_t{256} << 10;
    // How often a stopped writer checks whether it can resume.
    std::chrono::milliseconds retry_interval{1000};
    // Free bytes (on the filesystem, or in the map after MDB_MAP_FULL) needed before it resumes.
    std::uint64_t resume_free_bytes = std::uint64_t{64} << 20;
  };

  // What one successful group commit round took, for metrics. `commit_time` is what the round
  // waited for durability: the previous round's event-file sync, the previous index commit and,
  // when nothing else waits, this round's own sync and commit. `total_time` adds writing the
  // event bytes and building the index.
  struct CommitStats {
    std::chrono::nanoseconds total_time{0};
    std::chrono::nanoseconds commit_time{0};
    std::size_t events = 0;
    std::uint64_t event_bytes = 0;
    std::size_t run_macs = 0;        // index entries of encrypted files written
    std::size_t run_macs_ahead = 0;  // of which the MAC was computed on the crypto helper
    // Of those, the MACs computed while the round's bytes were written (all of its last write was
    // encrypted ahead; otherwise the helper starts on them after the write).
    std::size_t run_macs_while_written = 0;
    // Bytes of encrypted files whose AES-CTR was done ahead on the crypto helper, while the round
    // before this one was committed (writer_event_bytes.cc).
    std::uint64_t event_bytes_encrypted_ahead = 0;
  };
  using CommitObserver = std::function<void(const CommitStats&)>;

  struct Progress {
    std::optional<ResumePoint> durable_end;  // the newest published durable end
    // The newest end on disk, at or after durable_end: a lone commit is here once its event file
    // and commit record are synced, before its index commit publishes it to readers. What a
    // semi-sync source may be acknowledged.
    std::optional<ResumePoint> synced_end;
    std::uint64_t commits = 0;   // group commits so far
    bool accepting = true;       // false while stopped by an error
    std::optional<Error> error;  // why it stopped (cleared when it resumes)
    bool queue_full = false;     // the producer must wait for room
    std::uint64_t restarts = 0;  // times writing resumed after an error
  };
  using ProgressCallback = std::function<void(const Progress&)>;
  using PurgeCallback = std::function<void(Result<PurgeReport>)>;

  struct Admission {
    bool queue_full = false;  // stop reading until a progress callback says queue_full == false
  };

  // Starts the writer thread on `store`, continuing from its durable end. At most one writer per
  // store.
  // `on_commit`, when set, runs on the writer thread after each successful commit (quick, like
  // the progress callback: e.g. observe a lock-free histogram).
  static Result<std::unique_ptr<StoreWriter>> start(BinlogStore& store, Options options,
                                                    ProgressCallback on_progress = {},
                                                    CommitObserver on_commit = {});

  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;
  ~StoreWriter();  // stop()

  // Validates and queues `batch` (an empty batch is a no-op). Errors: the batch breaks the rules in
  // write_batch.h (nothing of it is queued), or the writer is stopped (the error that stopped it).
  Result<Admission> submit(WriteBatch batch);

  // An empty batch to fill: one the writer has committed and cleared when one is spare (its buffers
  // are allocated and warm, which matters: on small events a fresh batch's allocations cost several
  // times the copy itself), otherwise a new one.
  WriteBatch take_batch();

  Progress progress() const;
  // Runs a purge on the writer thread, between commits (also while stopped: purging is how a full
  // map makes room); `done` gets the report on the writer thread.
  void request_purge(PurgeRequest request, PurgeCallback done);
  // Puts and forgets remembered replica records (BinlogStore::update_replica_records) on the
  // writer thread, between commits and before any purge queued by then, so that a purge never
  // runs on records older than the ones asked for before it; `done` gets the outcome there.
  struct ReplicaUpdate {
    std::vector<ReplicaRecord> records;
    std::vector<std::uint32_t> forget;
  };
  void request_replica_update(ReplicaUpdate update, std::function<void(Status)> done);
  // Commits what is queued (unless stopped by an error), stops the thread and returns the error that
  // stopped the writer, if any. Idempotent.
  Status stop();

  // Recovery (BinlogStore::open, after trimming to the resume point, before reconciling the event
  // files): indexes the lone round recorded at the end of the newest event file when its LMDB
  // commit did not reach the disk and its record and bytes verify. Fails while a writer runs.
  static Status recover_lone_commit(BinlogStore& store);

 private:
  // The newest file as the writer sees it: its record as it will be committed (end_position only
  // moves at boundaries) and where the next event goes.
  struct FileState {
    FileInfo info;
    std::uint64_t next_position = 0;
    std::optional<std::int64_t> unfinished_first_timestamp;  // first event after the last boundary
    bool dirty = false;
    // An encrypted file's encryption part (its wrapped data key) and cipher (data key, nonce and
    // keystream segments, which its record states: file_ciphers.h); nullopt: a plain file.
    std::optional<FileEncryption> encryption;
    std::optional<FileCipher> cipher;
    std::optional<crypto::RunMacer> macer;          // the MACs of its runs (writer_index.cc)
    std::optional<SealedMetadata> sealed_metadata;  // its record's encrypted parts, made once per cipher
  };
  // A new file's encryption, chosen when its event file is created (writer_event_bytes.cc) and
  // recorded when its record is indexed (writer_index.cc), in the same order.
  struct NewFileCipher {
    std::optional<FileEncryption> encryption;
    std::optional<FileCipher> cipher;
  };
  struct CommitOutcome {
    std::optional<ResumePoint> durable;  // what this round made durable (nullopt: nothing new)
    CommitStats stats;
  };
  struct BuiltIndex {
    LmdbTxn txn;                     // open, holding the round's index
    std::optional<ResumePoint> end;  // the resume point it sets (nullopt: no new boundary)
  };
  struct IndexRound;  // writer_index.cc
  // A run MAC of the round, planned and computed on crypto_helper_ (start_run_macs()).
  struct PlannedMac {
    std::uint32_t file_seq = 0;
    std::uint64_t offset = 0;                  // of the MACed bytes in the file
    std::vector<ByteView> stored;              // the bytes, in ciphertexts_
    crypto::RunMacer* macer{};                 // helper_macers_'s, for file_seq
    std::optional<crypto::FileNonce> segment;  // the keystream segment's nonce it binds, if any
    crypto::Mac256 mac{};
  };
  // Stretches of a queued batch's payload that the crypto helper encrypted ahead of its round, as
  // the bytes at `position` of the file on from (see plan_ctr_ahead()).
  struct CtrStretch {
    std::size_t offset = 0;  // in the payload
    std::size_t size = 0;
    std::uint64_t position = 0;
  };
  struct CtrAhead {
    const std::uint8_t* payload = nullptr;  // the queued batch's payload
    Bytes stored;                           // its ciphertext at the payload's offsets
    std::vector<CtrStretch> stretches;
  };
  // One file's run MAC context for crypto_helper_, with the data key it was made from.
  struct HelperMacer {
    crypto::Key256 key{};
    std::optional<crypto::RunMacer> macer;
  };
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
  struct ReplicaJob {
    ReplicaUpdate update;
    std::function<void(Status)> done;
  };

  StoreWriter(BinlogStore& store, Options options, ProgressCallback on_progress, CommitObserver on_commit);

  // store_writer.cc: the queue and the writer thread's loop.
  Status load_state();
  void run();
  // Takes the next round's batches from the queue (mutex_ held); `release_producer`: the queue
  // fell below its bound, so the producer must hear queue_full == false.
  std::deque<WriteBatch> take_round(bool& release_producer);
  // Writes and commits a round (mutex_ not held), then clears its batches.
  void write_round(std::deque<WriteBatch>& batches);
  // Keeps a round's cleared batches for take_batch() (mutex_ held).
  void keep_spare_batches(std::deque<WriteBatch>& batches);
  // Runs the replica updates, then the purges (mutex_ held, released while each runs).
  void run_purges(std::unique_lock<std::mutex>& lock);
  bool has_jobs() const { return !purge_jobs_.empty() || !replica_jobs_.empty(); }  // mutex_ held
  void notify();

  // writer_admission.cc: the rules of write_batch.h, checked in submit().
  Status validate(const WriteBatch& batch, AdmissionState& state) const;
  Status validate_begin_file(const WriteBatch::File& file, std::size_t max_key, AdmissionState& state) const;
  Status validate_event(const WriteBatch::Event& event, std::size_t max_key, AdmissionState& state) const;

  // writer_event_bytes.cc: event bytes to their event files, and their fdatasync.
  // `commit_record` (a plain lone round's, or empty) is written right after the last event; an
  // encrypted file's record seals the stored bytes, so writer_lone_commit.cc writes it afterwards.
  Status write_event_bytes(const std::deque<WriteBatch>& batches, ByteView commit_record = {});
  // Encrypts `pieces` (contiguous in the file from `position`, each inside batch `sources[i]`'s
  // payload) into ciphertexts_ (one pass: encrypting while copying) and writes them to the file.
  // The round's last write (`last_write`), when it was all encrypted ahead, first starts the round's
  // run MACs on the helper (macs_while_written_).
  Status write_encrypted(const std::deque<WriteBatch>& batches, const std::vector<ByteView>& pieces,
                         const std::vector<std::size_t>& sources, std::uint64_t position, bool last_write);
  // The next round's AES-CTR on the crypto helper, after this round's run MACs, while the round
  // before commits and this round's index is built: while rounds queue up (a backlog),
  // plan_ctr_ahead() notes the events of the batches at the queue's front that continue the file
  // being appended to, under its key, and encrypt_ahead() encrypts them. That round's write_event_bytes()
  // takes what matches its own pieces exactly (the same batch, offsets, file positions and key) through
  // adopt_ctr_ahead() and encrypts the rest itself; a plan is never kept past that write, so a
  // payload buffer recycled afterwards is never mistaken for the batch it was made for.
  //
  // The batches the next round will take (mutex_ held briefly): they stay queued, unchanged, until
  // the helper job that plans from them has been waited for.
  std::vector<const WriteBatch*> queued_round();
  void plan_ctr_ahead(const std::vector<const WriteBatch*>& queued);
  void encrypt_ahead();
  // Swaps the planned batches' ciphertexts into ciphertexts_ and forgets the plan.
  void adopt_ctr_ahead(const std::deque<WriteBatch>& batches);
  // Whether ciphertexts_[batch] holds [offset, offset + size) of the payload encrypted as the
  // bytes at `position` of the file being appended to.
  bool encrypted_ahead(std::size_t batch, std::size_t offset, std::size_t size, std::uint64_t position) const;
  void drop_ctr_ahead();
  // Sets appender_cipher_ and the CTR contexts that encrypt with it.
  Status set_appender_cipher(const std::optional<FileCipher>& cipher);
  // Before an encrypted write at `position` below keystream_written_end_: a keystream segment from
  // `position` on under a fresh random nonce (segments from there on are dropped: none of their
  // bytes is indexed as complete), in the appender's cipher and in the cipher of the record that
  // will index the bytes (the newest file's, or the created file's not yet indexed), whose encoding
  // states it.
  Status start_keystream_segment(std::uint64_t position);
  // Hands the event files written since the last sync to the sync thread / waits for that sync.
  Status start_sync();
  Status wait_sync();

  // writer_index.cc: a round's index (runs, GTIDs, file records, resume point).
  // `now`: the clock to record (a replayed round keeps its own); the store's clock by default.
  Result<BuiltIndex> build_index(const std::deque<WriteBatch>& batches, CommitStats& stats,
                                 std::optional<std::int64_t> now = std::nullopt);
  Status index_begin_file(IndexRound& round, const WriteBatch::File& start);
  Status index_event(IndexRound& round, const WriteBatch& batch, const WriteBatch::Event& event);
  Status index_abandon_transaction(IndexRound& round);
  // An encrypted store's run MACs of a round, computed on crypto_helper_ while the previous round's
  // index commits (or while the round is written, when its last write was all encrypted ahead:
  // write_encrypted()): start_run_macs() starts a helper job that cuts the round's runs as build_index()
  // will (plan_run_macs(): the same PendingRun rules, from a copy of what it needs of the writer's
  // state, which build_index() changes meanwhile) and computes their MACs, then encrypts the next
  // round ahead (plan_ctr_ahead()). build_index() takes the MACs in order once the job says they
  // are done (macs_done_), computing any that was not planned (or is not the same run) itself.
  // finish_run_macs() waits for the MAC part and forgets that plan (the round's batches and
  // ciphertexts_ are then the writer's again); wait_crypto_job() waits for the whole job, which
  // reads queued batches: before take_round() pops them, before the next write and in fail().
  struct MacPlanStart {
    std::uint32_t seq = 0;                             // the file the round goes on with
    std::optional<FileCipher> cipher;                  // its key, when encrypted
    std::uint32_t next_file_seq = 0;                   // the number of the next file the round begins
    std::vector<std::optional<FileCipher>> new_files;  // the keys of the files it begins
  };
  void start_run_macs(const std::deque<WriteBatch>& batches);
  Status plan_run_macs(const std::deque<WriteBatch>& batches, const MacPlanStart& start);
  void finish_run_macs();
  void wait_crypto_job();
  // The helper's MAC context for `file_seq` under `cipher` (made again when the key changed).
  Result<crypto::RunMacer*> helper_macer(std::uint32_t file_seq, const FileCipher& cipher);
  // The planned MAC of the next run part, when it is the one at `offset` of `file_seq` over exactly
  // `stored` under `segment` (kSegmentRunDomain); nullopt otherwise (and then for the rest of the round).
  Result<std::optional<crypto::Mac256>> take_planned_mac(std::uint32_t file_seq, std::uint64_t offset,
                                                         const std::vector<ByteView>& stored,
                                                         const crypto::FileNonce* segment);
  // Writes the index entries of the run `round` gathered (writer_index.cc).
  Status write_index(IndexRound& round);
  // Puts the resume point the round's last boundary sets; nullopt when it has none.
  Result<std::optional<ResumePoint>> put_resume_point(IndexRound& round);

  // writer_commit.cc: the group commit pipeline.
  // One group commit round: the batches' bytes to their event files (while the previous round's
  // bytes may still be syncing), then their sync starts on the sync thread while the previous
  // round's index commits, then this round's index is built and kept open as the pending
  // transaction that the next round commits; when nothing else waits, it commits and syncs now.
  Result<CommitOutcome> commit(std::deque<WriteBatch>& batches);
  // SyncMode::kNone: writes, indexes and commits the round at once.
  Result<CommitOutcome> commit_without_sync(std::deque<WriteBatch>& batches,
                                            std::chrono::steady_clock::time_point started);
  // Commits the pending transaction; returns the end its fdatasync made durable, if any.
  Result<std::optional<ResumePoint>> commit_pending();
  // Commits and syncs the pending transaction and publishes it (before a purge or at rest).
  Status finish_pending();
  // MDB_MAP_FULL when what the map has left is kept for purges.
  Status check_map_room() const;
  void after_commit(const CommitOutcome& outcome);

  // writer_lone_commit.cc: a lone round in one flush (see above) and its recovery.
  // Whether `batches` may take the lone path: they found the writer idle or are one submit (several
  // submits queued behind a busy writer take the group commit path, which overlaps their syncs),
  // nothing else waits or is in flight, and they only append complete transactions (and relay
  // metadata) to the newest file.
  bool lone_round(const std::deque<WriteBatch>& batches) const;
  // The round's commit record; an encrypted file's is sealed over ciphertexts_, so it is made
  // after write_event_bytes().
  Result<Bytes> lone_commit_record(const std::deque<WriteBatch>& batches, std::int64_t now);
  Result<CommitOutcome> commit_lone(std::deque<WriteBatch>& batches,
                                    std::chrono::steady_clock::time_point started);
  // After a lone round is published: syncs its meta page (the next round may then overwrite its
  // commit record).
  Status finish_lone_commit();
  // The resume point a lone round sets (its index is built after it is reported durable).
  ResumePoint lone_round_end(const std::deque<WriteBatch>& batches) const;
  // Reports `end` synced to the producer (Progress::synced_end) before readers see it.
  void report_synced(ResumePoint end);
  Status replay_lone_commit();  // the same, on this writer's state (its resume after an error)
  // The cipher of file `file_seq` as its committed record states it; nullopt for a plain file.
  Result<std::optional<FileCipher>> committed_cipher(std::uint32_t file_seq);

  // writer_failure.cc: stopping on an error and resuming.
  void fail(const Error& error);
  // While stopped by an error (mutex_ held): waits for stop(), a purge or the retry interval, then
  // resumes when there is room again.
  void wait_to_resume(std::unique_lock<std::mutex>& lock);
  bool ready_to_resume() const;
  // Trims what follows the durable end and reloads the writer's state; false when that failed.
  bool resume();

  BinlogStore& store_;         // not owned
  StoreInternals& internals_;  // not owned: store_.internals()
  const Options options_;
  const ProgressCallback on_progress_;
  const CommitObserver on_commit_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<WriteBatch> queue_;         // guarded by mutex_
  std::size_t queued_bytes_ = 0;         // guarded by mutex_
  AdmissionState admission_;             // guarded by mutex_: state after everything queued
  std::deque<PurgeJob> purge_jobs_;      // guarded by mutex_
  std::deque<ReplicaJob> replica_jobs_;  // guarded by mutex_
  // Committed batches kept for take_batch(), their capacity bounded by twice what can be in flight
  // (queue_limit_bytes queued plus a max_commit_bytes round): a batch is made only when none is
  // spare, so in steady streaming none is dropped and made again (a new one's pages fault in).
  std::vector<WriteBatch> spare_batches_;  // guarded by mutex_
  std::size_t spare_bytes_ = 0;            // guarded by mutex_
  Progress progress_;                      // guarded by mutex_
  bool stopping_ = false;                  // guarded by mutex_

  // Writer-thread state: the newest file and the durable-end bookkeeping.
  std::unique_ptr<FileState> file_;
  EventFileAppender appender_;                   // the newest file's event file
  std::optional<FileCipher> appender_cipher_;    // its data key, when it is encrypted
  std::optional<crypto::FileCtr> appender_ctr_;  // AES-CTR under appender_cipher_ (one per file)
  // How far the appender's file may hold bytes encrypted under its newest nonce: from 0 for a file
  // the writer created, to the end of what it wrote encrypted (a lone round's commit record, written
  // plain after the round, does not count); unknown (the maximum) for the file it found (a writer
  // before it, or a failed round, may have written past the durable end).
  std::uint64_t keystream_written_end_ = 0;
  std::deque<NewFileCipher> new_file_ciphers_;  // files created, not yet indexed
  // Per batch of the round being written: its events' stored (encrypted) bytes at the offsets the
  // events have in the batch's payload (only events of encrypted files are filled in).
  std::vector<Bytes> ciphertexts_;
  // An encrypted store's second crypto thread: a large write's AES-CTR, a chunk ahead of its
  // writes (writer_event_bytes.cc), and start_run_macs()'s job: the round's run MACs, then the next
  // round's AES-CTR (writer_index.cc, writer_event_bytes.cc).
  std::vector<PlannedMac> planned_macs_;
  std::size_t next_planned_mac_ = 0;
  bool crypto_job_running_ = false;  // a job started on crypto_helper_, not yet waited for
  bool macs_pending_ = false;        // its MAC part not yet waited for
  bool macs_while_written_ = false;  // the round's write started its MACs (finish_run_macs() clears)
  std::atomic<bool> macs_done_{false};
  std::optional<Error> mac_error_;                      // why the MAC part failed (set before macs_done_)
  std::map<std::uint32_t, HelperMacer> helper_macers_;  // by file; their macers run on the helper
  std::optional<crypto::FileCtr> helper_ctr_;           // the same key as appender_ctr_
  std::vector<CtrAhead> ctr_ahead_;                     // the plan (see plan_ctr_ahead())
  std::optional<FileCipher> ctr_ahead_cipher_;          // the key and nonce it encrypts under
  bool ctr_ahead_done_ = false;                         // the helper encrypted all of it
  std::vector<Bytes> ctr_ahead_spares_;                 // buffers for the next plan
  // Per batch of the round being written: the stretches of ciphertexts_ adopted from the plan.
  std::vector<std::vector<CtrStretch>> ready_ciphertexts_;
  std::uint64_t encrypted_ahead_bytes_ = 0;            // of the round being written (CommitStats)
  std::unique_ptr<SyncThread> crypto_helper_;          // null for a plain store
  bool appender_written_ = false;                      // written since its last sync
  std::vector<EventFileAppender> finished_appenders_;  // ended files written since their last sync
  std::unique_ptr<SyncThread> syncer_;                 // SyncMode::kCommit only
  bool sync_in_flight_ = false;                        // syncer_ has a job not yet waited for
  std::optional<LmdbTxn> pending_txn_;                 // the last round's index, not yet committed
  std::optional<ResumePoint> pending_end_;             // the end pending_txn_ sets
  std::uint32_t next_file_seq_ = 1;
  std::optional<ResumePoint> committed_end_;  // as of the last committed transaction
  std::optional<ResumePoint> published_end_;  // what readers see
  std::optional<ResumePoint> unsynced_end_;   // committed, meta page not yet known durable
  bool lone_meta_unsynced_ = false;           // a lone round's meta page is not synced yet
  // A lone round whose fdatasync failed and whose record could not be cut: the next replay skips it.
  bool lone_round_unsynced_ = false;
  bool writer_idle_ = true;          // the writer waited for work since its last round
  bool round_after_idle_ = false;    // the round being committed found the writer idle
  std::uint64_t appender_size_ = 0;  // the size appender_'s file reached
  Bytes current_transaction_gtid_;
  Bytes last_gtid_;
  std::uint64_t purges_at_failure_ = 0;
  bool fatal_ = false;

  std::thread thread_;
};

}  // namespace brelay::storage
