// StoreReader: one downstream session's cursor over the stored stream. It positions by (file,
// position), by GTID, or at the first event of a file, then reads forward across files, never past
// the durable end the writer published, and says when it enters a new file (the server then sends a
// fake ROTATE and the file's FDE, so a batch never spans files).
//
// Reads are zero-copy: read() returns views straight into a shared map of the file's event file
// (event_files.h), several events per call
// (each EventRun holds consecutive events back to back), valid until the next read(), seek(),
// release() or the reader's destruction. The caller sends what it can (a writev of the runs), says
// how many bytes it consumed, and calls release() promptly: between read() and release() the reader
// holds a read transaction, which keeps the writer from reusing old pages. Between calls the reader
// keeps its transaction handle reset, so each read takes a fresh, short snapshot.
//
// Each reader registers the file it is reading with the store, so retention with protect_replicas
// never purges it; a forced purge of it makes the next read() fail with an error saying so.
//
// Threads: a reader is used by one thread at a time (the loop thread); many readers may work at
// once, with each other and with the writer. It borrows the store, which must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/binlog_store.h"
#include "storage/event_files.h"
#include "storage/file_ciphers.h"
#include "storage/lmdb_cursor.h"
#include "storage/lmdb_txn.h"
#include "storage/store_format.h"
#include "storage/store_types.h"

namespace brelay::storage {

struct DurableLimit;  // store_internals.h

// Consecutive stored events of one file, as views into the map. `bytes` starts at `position`; after
// a consume() that stopped inside an event it starts with the rest of that event (partial_prefix()
// bytes), and the events the run lists are those that start at or after `position`.
class EventRun {
 public:
  EventRun(RunView run, std::uint64_t run_position, std::size_t begin_offset, std::size_t end_offset);

  std::uint64_t position() const { return run_position_ + begin_offset_; }
  ByteView bytes() const { return run_.payload().subspan(begin_offset_, end_offset_ - begin_offset_); }
  std::size_t partial_prefix() const;
  std::size_t event_count() const { return end_event_ - first_event_; }
  ByteView event(std::size_t index) const;
  std::uint64_t event_position(std::size_t index) const;

  // For decrypting readers (store_reader_decrypt.cc): the stored run, where it starts, how much of
  // it (from its start) the batch covers, and the bytes to serve instead of the map's.
  const RunView& stored_run() const { return run_; }
  std::uint64_t run_position() const { return run_position_; }
  std::size_t end_offset() const { return end_offset_; }
  void rebind(ByteView payload) { run_ = run_.with_payload(payload); }

 private:
  RunView run_;
  std::uint64_t run_position_;  // position of the run's first event
  std::size_t begin_offset_;
  std::size_t end_offset_;
  std::size_t first_event_;  // index in run_ of the first event starting at or after begin_offset_
  std::size_t end_event_;    // one past the last event ending at or before end_offset_
};

struct ReadBatch {
  // The reader moved into a new file (StoreReader::file()) before these runs: announce it.
  bool file_changed = false;
  std::span<const EventRun> runs;  // contiguous in the file, starting at the reader's position
  std::size_t bytes = 0;           // total bytes of the runs
  // Nothing more is durable after these runs for now: wait for the writer's next progress.
  bool at_durable_end = false;
};

class StoreReader {
 public:
  static Result<StoreReader> open(BinlogStore& store);

  StoreReader(StoreReader&& other) noexcept;
  StoreReader& operator=(StoreReader&& other) noexcept;
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;
  ~StoreReader();  // unregisters

  // Positions at `position` of `file`, which must be the start of a stored event or the file's
  // durable end. Errors name the file and say why (unknown or purged file, a position before what
  // is stored, beyond the durable end, or inside an event).
  Status seek(std::string_view file, std::uint64_t position);
  // Positions at the first event of the transaction with this GTID key (it must be complete).
  Status seek_gtid(ByteView gtid);
  // Positions at the first stored event of `file`, or of the oldest stored file.
  Status seek_file_start(std::string_view file);
  Status seek_oldest();

  // Up to about `max_bytes` (at least one run when anything is readable) from the position on.
  Result<ReadBatch> read(std::size_t max_bytes);
  // Advances the position by `bytes` of the last batch (at most ReadBatch::bytes).
  void consume(std::size_t bytes);
  // Ends the read transaction; the last batch's views become invalid.
  void release();

  bool positioned() const { return positioned_; }
  // The file the reader is in and its position there (valid once positioned).
  const FileInfo& file() const { return file_; }
  std::uint64_t position() const { return position_; }

 private:
  StoreReader(BinlogStore& store, LmdbTxn txn, LmdbCursor events);
  // How far a reader may read in a file: the durable end when the file holds it, the file's end
  // when a later file does, nothing when the file is not durable yet.
  static std::optional<std::uint64_t> readable_end(std::uint32_t file_seq, const FileRecordView& record,
                                                   const DurableLimit& limit);
  Status begin();
  Result<std::optional<FileRecordView>> file_record(std::uint32_t file_seq);
  struct StoredRun {
    EventKey key;
    RunView run;
  };
  // The stored run that holds `position` of `file_seq`; the cursor stays on it.
  Result<StoredRun> run_holding(std::uint32_t file_seq, std::uint64_t position);
  Status enter(std::uint32_t file_seq, const FileRecordView& record, std::uint64_t position,
               const DurableLimit& limit);
  Status collect_runs(std::uint64_t file_end, std::size_t max_bytes, ReadBatch& batch);
  // An encrypted file (store_reader_decrypt.cc): checks each collected run's MAC over its stored
  // bytes, then decrypts what the batch serves into decrypted_ and points the runs there. A MAC
  // mismatch is an error with code kStoreDamagedCode naming the file and position.
  Status decrypt_runs();

  BinlogStore* store_;  // not owned
  std::uint64_t registry_id_ = 0;
  LmdbTxn txn_;
  LmdbCursor events_;
  bool positioned_ = false;
  FileInfo file_;
  std::uint64_t position_ = 0;
  std::vector<EventRun> runs_;
  // The map of the current file's event file (kept between reads: it pins no LMDB pages).
  std::shared_ptr<const EventFileMap> map_;
  std::uint32_t map_seq_ = 0;
  // The current file's data key when it is encrypted, and the batch's decrypted bytes: at most the
  // runs one read() collects (a read's max_bytes plus one run; runs are at most the writer's
  // max_run_bytes unless one event is larger), valid until the next read() like the views.
  std::optional<FileCipher> cipher_;
  Bytes decrypted_;
  // The CTR and MAC contexts of cipher_ (store_reader_decrypt.cc), made on the first encrypted
  // read under a key and kept while the key stays (the move operations leave them behind: a moved
  // reader makes its own on its next read).
  struct DecryptContexts;
  std::shared_ptr<DecryptContexts> decrypt_;
};

}  // namespace brelay::storage
