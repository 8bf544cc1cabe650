// StoreReader: one downstream session's cursor over the stored stream. It positions by (file,
// position), by GTID, or at the first event of a file, then reads forward across files, never past
// the durable end the writer published, and says when it enters a new file (the server then sends a
// fake ROTATE and the file's FDE, so a batch never spans files).
//
// read() returns several events per call (each EventRun holds consecutive events back to back) as
// views valid until the next read(), seek(), release() or the reader's destruction. A batch of up to
// kMaxCopiedBytes is copied (pread) into a buffer the reader keeps and reuses: the first read of a
// freshly mapped page costs a page-table update, and in a VM with shadow page tables an exit, so a
// pass over a new map ran at 1.6-2 GB/s where pread + the same pass ran at 6 GB/s (issue 20: relay
// CPU per 200 MB `mariadb-binlog --raw` pull 0.21-0.27 s through the map, 0.07-0.10 s copied). A
// larger batch (only a single event larger than that) is a view straight into the shared map of the
// file's event file (event_files.h), zero copy. The buffer is freed while the reader waits at the
// durable end, so an idle reader holds none.
// A check done once per map (issue 20): a dump checks each stored event's CRC32 before it serves
// it, so that bytes damaged on disk are never served. Readers of one file share its map, which
// carries a mark of the stretch they have checked (mark_checked); a copied batch reports it
// (ReadBatch::checked_begin), and events inside it need no second check: readers of the same bytes
// at about the same time (replicas at the live end, readers catching up together) check them once,
// not once each. The mark lives as long as the map: while some reader holds the file (and the file
// has not grown past the map, whose successor starts unmarked); the next reader checks again.
// Limit: bytes that change under the page cache while the map lives (a page dropped under memory
// pressure and read back from a disk that altered it meanwhile, a write into the event file from
// outside the relay) reach readers behind the mark unchecked. Views of the map (an event larger
// than the buffer) report no mark: their check is also the guarded first read of their pages.
// A compressed file (compression.h) has no event file and no runs in the index: a batch comes from
// the frames that hold it, each decompressed once (the last frame is kept) and its events found by
// their headers; a batch inside one frame is a view of the decompressed frame, one that spans
// frames a copy. No mark is shared for them. A reader whose snapshot still names
// the event file when the compressor has just removed it takes a fresh snapshot once and reads the
// frames.
// The caller sends what it can (a writev of the runs), says how many bytes it consumed, and calls
// release() promptly: between read() and release() the reader holds a read transaction, which keeps
// the writer from reusing old pages. Between calls the reader keeps its transaction handle reset, so
// each read takes a fresh, short snapshot.
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
  ByteView bytes() const { return bytes_; }
  std::size_t partial_prefix() const;
  std::size_t event_count() const { return end_event_ - first_event_; }
  ByteView event(std::size_t index) const;
  std::uint64_t event_position(std::size_t index) const;

 private:
  friend class StoreReader;
  std::size_t bytes_size() const { return end_offset_ - begin_offset_; }
  void attach(ByteView bytes) { bytes_ = bytes; }

  RunView run_;  // the index part (event ends); bytes_ holds the bytes
  ByteView bytes_;
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
  // The stretch [checked_begin, checked_end) of the file that readers sharing this reader's map of
  // it have checked (StoreReader::mark_checked); empty unless the runs are a copy (see above).
  std::uint64_t checked_begin = 0;
  std::uint64_t checked_end = 0;
};

class StoreReader {
 public:
  // The largest batch copied into the reader's buffer (see above): above a dump's batch and a run.
  static constexpr std::size_t kMaxCopiedBytes = std::size_t{1} << 20;

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

  // Up to `max_bytes` (at least one event when anything is readable) from the position on.
  Result<ReadBatch> read(std::size_t max_bytes);
  // Advances the position by `bytes` of the last batch (at most ReadBatch::bytes).
  void consume(std::size_t bytes);
  // Ends the read transaction; the last batch's views become invalid.
  void release();
  // The caller checked the CRC32 of every event in [begin, end) of the current file, as this reader
  // read them: readers sharing the file's map may skip those (ReadBatch::checked_begin).
  void mark_checked(std::uint64_t begin, std::uint64_t end);

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
  // Positions in the file: the end of the run's last event that ends at or before `at` (the run's
  // start when none does), and the end of the run's event that holds `at`.
  static std::uint64_t last_event_end_by(const StoredRun& stored, std::uint64_t at);
  static std::uint64_t end_of_event_at(const StoredRun& stored, std::uint64_t at);
  // Gives the collected runs their bytes, the `span` bytes from the position on: copied into the
  // buffer when they fit it, else views into the map.
  Status attach_bytes(std::size_t span);
  // An encrypted file (store_reader_decrypt.cc): checks each collected run's MAC over its stored
  // bytes (the whole run, from the map), then decrypts the
  // batch's bytes into decrypted_ and gives the runs those (no checked mark: see above). A MAC
  // mismatch is an error with code kStoreDamagedCode naming the file and position.
  Status decrypt_runs();
  // A compressed file (store_reader_frames.cc), which keeps no runs in the index: the run of the
  // frame holding `at` (decompressed, unless it is the one kept), made from its events' headers.
  Result<StoredRun> frame_run_holding(std::uint32_t seq, std::string_view name,
                                      const FileCompression& compression,
                                      const std::optional<FileCipher>& cipher, std::uint64_t at);
  Status load_frame(std::string_view name, std::uint64_t at);
  // A batch from frames: begun, given the bytes [begin, end) of the current frame for each run
  // (kept as a view while the batch stays in one frame, copied once it spans frames:
  // keep_frame_bytes before the next frame is loaded), then attached to the runs.
  void begin_frame_batch();
  void take_frame_bytes(std::uint64_t begin, std::uint64_t end);
  void keep_frame_bytes();
  void attach_frames();
  // The stored run that holds `position` of the current file, or of its frame when compressed.
  Result<StoredRun> stored_run_at(std::uint64_t position);
  // Gives the collected runs their bytes, back to back from `bytes`.
  void attach_to_runs(ByteView bytes);
  // Whether file_seq is compressed in a fresh snapshot (the reader's own is older).
  Result<bool> compressed_since(std::uint32_t file_seq) const;
  Result<bool> collect_batch(const DurableLimit& limit, std::size_t max_bytes, ReadBatch& batch);

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
  // The copy buffer (attach_bytes), reused from batch to batch.
  std::unique_ptr<std::uint8_t[]> copy_;
  std::size_t copy_capacity_ = 0;
  EventFileMap::Checked checked_;  // the map's mark when the last batch was copied
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
  // The current file's compression part as the last read's snapshot saw it (nullopt: plain or not
  // compressed yet), and the frame reading state (store_reader_frames.cc): the compressed file,
  // the decoder, the last decompressed frame and its events' ends, the last batch's bytes when
  // they span frames; dropped while the reader waits at the durable end.
  std::optional<FileCompression> compression_;
  struct FrameState;
  std::shared_ptr<FrameState> frames_;
};

}  // namespace brelay::storage
