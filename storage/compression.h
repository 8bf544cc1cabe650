// Compression of sealed files (issue 17, `[storage] compression = "zstd"`): a stored file that is
// closed (the source rotated past it), is not the newest file, and was last written before a
// cut-off (`compress_after`) is rewritten, off the loop and writer threads, as independent zstd
// frames of about CompressionOptions::frame_bytes of its stored bytes each, into
// `events/<seq>.events.zst`, and swapped in for its event file `events/<seq>.events`.
//
// What the index holds (format version 5, store_format.h): the file record gains a compression part
// (algorithm, compressed size, frame count, and for an encrypted file the salt of the frame key); a
// `frames` database maps EventKey (file, stored position where the frame's bytes start) -> the
// frame's offset and size in the compressed file, its stored (uncompressed) size and, for an
// encrypted file, its MAC. The file's runs (a u32 end per event) are dropped in the same commit:
// frames are cut at event boundaries, and a reader walks the event headers of the frame it
// decompresses (frame_event_ends); the compressor checks first that every event's header gives its
// stored length, and leaves a file whose events do not uncompressed. The file's gtid_positions
// entries are packed into one `gtid_lists` value in that commit too (they only serve its purge);
// `gtids` is unchanged, and positions stay the source's, so seeking, SHOW BINARY LOGS sizes and replicas'
// positions do not change; a reader that needs a position decompresses the one frame that holds it.
//
// Compress, then encrypt: for an encrypted file the compressor reads the stored bytes through a
// StoreReader (each run's MAC checked, so damaged bytes are never laundered into a valid frame),
// compresses the plain bytes, and encrypts each frame with AES-256-CTR under a frame key derived
// from the file's data key and a fresh random salt (so the compressed stream never reuses the event
// file's keystream), with a GMAC per frame kept in its `frames` value; readers check the frame's MAC
// before decrypting and decompressing. Plain compressed frames carry zstd's content checksum; the
// dump's CRC32 check of each event stays as for plain files.
//
// Crash rule (the index names one complete version at every instant):
//   1. the compressed file is written in full and fdatasynced (its directory entry synced);
//   2. one LMDB write transaction checks the file record is unchanged (not purged, not compressed
//      meanwhile), puts the frames and the record with its compression part, drops the file's runs,
//      packs its GTID positions, commits and syncs;
//   3. only then the event file is unlinked (readers holding its map keep reading it).
// Recovery (reconcile_event_files) removes a `.events.zst` whose record has no compression part (a
// crash before 2) and a `.events` whose record has one (a crash between 2 and 3); a compressed
// record whose `.events.zst` is missing or short is damage, reported like a missing event file.
// Retention removes both kinds of file.
//
// Readers (store_reader.h) choose the path by the record their snapshot reads; one whose snapshot
// predates the swap and finds the event file already gone takes a fresh snapshot once and reads the
// frames. Served and exported bytes are the same before, during and after the swap.
//
// Threads: compress_file/compress_due run on a caller's background thread (the relay's compression
// scheduler), one at a time per store; everything else in the store goes on meanwhile. The write
// transaction in step 2 is short (it waits for the writer's commit in progress, like a purge).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace brelay::storage {

class BinlogStore;

struct CompressionOptions {
  int level = 3;                                   // zstd level, 1..19 ([storage] compression_level)
  std::size_t frame_bytes = std::size_t{1} << 20;  // stored bytes per frame (the last may be shorter)
  // Checked between frames: when it becomes true, the file being compressed is abandoned (its
  // partial `.events.zst` removed) and compress_due returns what it finished.
  const std::atomic<bool>* stop = nullptr;
  // Tests only: called after each step of the crash rule ("written": the compressed file is synced;
  // "indexed": the index commit is synced; "swapped": the event file is unlinked).
  std::function<void(std::string_view step)> after_step;
};

struct CompressionReport {
  std::uint32_t file_seq = 0;
  std::string file;                    // the source's file name
  std::uint64_t stored_bytes = 0;      // end_position - first_position
  std::uint64_t event_file_bytes = 0;  // disk bytes of the event file before
  std::uint64_t compressed_bytes = 0;  // size of the `.events.zst` after
  std::size_t frames = 0;
  std::size_t readers_during_swap = 0;  // registered readers reading the file when it was swapped
};

class Compressor {
 public:
  // The files due for compression, oldest first: closed, not the newest file, durable as a whole (the
  // published durable end is in a later file), not compressed, last written
  // (FileInfo::last_write_time) at or before `written_before` (Unix seconds, relay clock).
  static Result<std::vector<std::uint32_t>> due_files(BinlogStore& store, std::int64_t written_before);

  // Compresses one file by the crash rule above. nullopt when there was nothing to do: the file is
  // gone (purged), already compressed, not sealed, or `stop` was raised. Errors (a full disk, damaged
  // stored bytes) leave the file as it was and name the file and what to do.
  static Result<std::optional<CompressionReport>> compress_file(BinlogStore& store, std::uint32_t file_seq,
                                                                const CompressionOptions& options);

  // due_files() then compress_file() for each, one at a time, until done or `stop`. A file that
  // fails stays as it was and the later ones are still compressed; the first failure is then the
  // result (the reports of the others are lost to the caller, the files are compressed).
  static Result<std::vector<CompressionReport>> compress_due(BinlogStore& store, std::int64_t written_before,
                                                             const CompressionOptions& options);
};

}  // namespace brelay::storage
