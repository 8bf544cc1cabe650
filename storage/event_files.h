// Event files: the stored events' bytes, one plain file per stored binlog file, in
// `<data_dir>/events/<file sequence>.events`. The byte at offset P of an event file is the byte at
// position P of the source's binlog file (the part before the first stored position is a hole), so
// an event file of a fully stored binlog is that binlog less its 4-byte magic. LMDB keeps the index
// (runs of event ends, file records, GTIDs, the resume point, see store_format.h) and stays small;
// the event bytes go to disk with one sequential write and one fdatasync per group commit, which is
// what a plain binlog file costs, and readers get them zero-copy through a read-only shared map.
//
// Crash rule: an event file always holds at least what the committed index names. The writer writes
// and fdatasyncs event bytes before the LMDB commit that indexes them, and creates (and fsyncs the
// directory entry of) a new event file before the commit that records the file. Bytes past what the
// index names (an unfinished commit, an abandoned transaction) are cut by recovery, except a lone
// commit's round that its commit record vouches for (commit_record.h), which it indexes; event files
// without a file record (a crash between creating one and committing it, or between a purge's
// commit and its unlink) are removed by recovery.
//
// A sealed file may instead be stored compressed, in `<data_dir>/events/<file sequence>.events.zst`
// (compression.h says how and how it is swapped in by the same crash rule); EventFiles creates,
// reads, lists and removes those too, and recovery keeps exactly the form the index names.
//
// Threads: EventFiles is shared by the store's writer and readers (its map cache is locked);
// an EventFileAppender belongs to the writer thread; an EventFileMap is immutable and shared.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/store_types.h"

namespace brelay::storage {

// A read-only shared map of the first `length()` bytes of an event file, with the file open for
// read_into(). Only bytes below what the file held when they were asked for may be read (mapping past
// the end of a file is allowed, reading there is not); event bytes never change once written below
// the durable end. The map outlives an unlink of the file.
class EventFileMap {
 public:
  EventFileMap(const EventFileMap&) = delete;
  EventFileMap& operator=(const EventFileMap&) = delete;
  ~EventFileMap();

  std::uint64_t length() const { return length_; }
  // Bytes [offset, offset + size); the caller checks the range against length() first.
  ByteView bytes(std::uint64_t offset, std::size_t size) const { return ByteView(base_ + offset, size); }
  // Maps the pages of [offset, offset + size) in one call (MADV_POPULATE_READ) instead of one page
  // fault per few pages on first touch: a serving read then costs about 20 % less CPU (issue 20:
  // faults were most of the kernel time besides the socket copy). Page-cache pages only; the
  // caller checks the range against length() first.
  void populate(std::uint64_t offset, std::size_t size) const;
  // Copies bytes [offset, offset + out.size()) of the file into `out` (pread). Where the map's first
  // touch of a page costs a page-table update (and, in a VM with shadow page tables, an exit), a
  // copy into a buffer the caller reuses costs one memory copy: serving reads that fit a buffer
  // use this (store_reader.h). A file cut short under the map is an error with kStoreDamagedCode.
  Status read_into(std::uint64_t offset, std::span<std::uint8_t> out) const;

  // The stretch [begin, end) of the file whose events readers of this map have checked (their
  // CRC32s) since it was made: a mark shared by the readers that hold the map, gone with it
  // (store_reader.h says what it covers). Empty (begin == end) at first.
  struct Checked {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
  };
  Checked checked() const;
  // Widens the mark by [begin, end) when that touches or overlaps it (or starts it when empty).
  void add_checked(std::uint64_t begin, std::uint64_t end) const;

 private:
  friend class EventFiles;
  EventFileMap(const std::uint8_t* base, std::uint64_t length, int fd, std::string path)
      : base_(base), length_(length), fd_(fd), path_(std::move(path)) {}

  const std::uint8_t* base_;
  std::uint64_t length_;
  int fd_;
  std::string path_;
  mutable std::mutex checked_mutex_;
  mutable Checked checked_;  // guarded by checked_mutex_
};

// The writer's handle on the event file it appends to (RAII file descriptor).
class EventFileAppender {
 public:
  EventFileAppender() = default;
  EventFileAppender(EventFileAppender&& other) noexcept;
  EventFileAppender& operator=(EventFileAppender&& other) noexcept;
  EventFileAppender(const EventFileAppender&) = delete;
  EventFileAppender& operator=(const EventFileAppender&) = delete;
  ~EventFileAppender();

  bool is_open() const { return fd_ >= 0; }
  // Writes `pieces` back to back from `offset` on. A short write (a full disk) is an error with
  // errno's code (ENOSPC); whatever part was written is beyond the index and cut by recovery.
  Status write_at(std::uint64_t offset, std::span<const ByteView> pieces);
  Status sync();

  // What another thread needs to fdatasync this file while the appender goes on writing (or is
  // closed): a duplicate of its descriptor, closed with the target.
  class SyncTarget {
   public:
    SyncTarget(SyncTarget&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}
    SyncTarget& operator=(SyncTarget&&) = delete;
    SyncTarget(const SyncTarget&) = delete;
    SyncTarget& operator=(const SyncTarget&) = delete;
    ~SyncTarget();
    Status sync() const;

   private:
    friend class EventFileAppender;
    SyncTarget(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    int fd_ = -1;
    std::string path_;
  };
  Result<SyncTarget> sync_target() const;

 private:
  friend class EventFiles;
  EventFileAppender(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_ = -1;
  std::string path_;
};

// A compressed file (`<seq>.events.zst`, compression.h) open for reading frames (RAII descriptor).
class CompressedFile {
 public:
  CompressedFile(CompressedFile&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}
  CompressedFile& operator=(CompressedFile&& other) noexcept;
  CompressedFile(const CompressedFile&) = delete;
  CompressedFile& operator=(const CompressedFile&) = delete;
  ~CompressedFile();

  const std::string& path() const { return path_; }
  // Bytes [offset, offset + out.size()) (pread); a file shorter than that is kStoreDamagedCode.
  Status read(std::uint64_t offset, std::span<std::uint8_t> out) const;

 private:
  friend class EventFiles;
  CompressedFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

class EventFiles {
 public:
  // `data_dir`/events; created (and its entry synced) unless read-only.
  static Result<std::unique_ptr<EventFiles>> open(const std::string& data_dir, bool read_only);

  EventFiles(const EventFiles&) = delete;
  EventFiles& operator=(const EventFiles&) = delete;

  const std::string& directory() const { return directory_; }
  std::string path(std::uint32_t file_seq) const;

  // Creates the event file of a new stored file (empty; an existing one, left by a crash before its
  // file record was committed, is emptied) and makes its directory entry durable when `sync`.
  Result<EventFileAppender> create(std::uint32_t file_seq, bool sync);
  // A file's compressed form (compression.h): created empty for the compressor to write (an
  // existing one, left by an abandoned compression, is emptied), opened to read frames (a missing
  // one is kStoreDamagedCode), listed, sized and removed (no error when already gone).
  std::string compressed_path(std::uint32_t file_seq) const;
  Result<EventFileAppender> create_compressed(std::uint32_t file_seq);
  Result<CompressedFile> open_compressed(std::uint32_t file_seq) const;
  Result<std::vector<std::uint32_t>> list_compressed() const;
  Result<std::uint64_t> compressed_size(std::uint32_t file_seq) const;
  Status remove_compressed(std::uint32_t file_seq);

  // Opens an existing event file to append to it (the writer restarting on the newest file).
  Result<EventFileAppender> open_for_append(std::uint32_t file_seq);

  // A map of file_seq's event file covering at least [0, end). Maps are shared between readers and
  // made anew only when a reader needs more than the newest map of the file covers. A missing file
  // or one shorter than `end` is an error with code kStoreDamagedCode (the store is damaged).
  Result<std::shared_ptr<const EventFileMap>> map(std::uint32_t file_seq, std::uint64_t end);

  // The sequence numbers of the event files present, ascending (not their compressed forms).
  Result<std::vector<std::uint32_t>> list() const;
  Result<std::uint64_t> size(std::uint32_t file_seq) const;
  // Cuts an event file to `size` bytes (no-op when it is not longer) and syncs it when `sync`.
  Status truncate(std::uint32_t file_seq, std::uint64_t size, bool sync);
  // Removes an event file (no error when it is already gone). Readers' maps stay valid.
  Status remove(std::uint32_t file_seq);
  // Total bytes the event files take on disk.
  std::uint64_t disk_bytes() const;
  Status sync_directory() const;

 private:
  explicit EventFiles(std::string directory) : directory_(std::move(directory)) {}
  Result<std::vector<std::uint32_t>> list_with_suffix(std::string_view suffix) const;

  const std::string directory_;
  std::mutex mutex_;
  std::map<std::uint32_t, std::weak_ptr<const EventFileMap>> maps_;  // guarded by mutex_
};

}  // namespace brelay::storage
