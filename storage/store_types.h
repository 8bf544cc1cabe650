// Plain values that cross the storage API: where the durable stream ends, what is known about a
// stored file, and store-wide figures. All own their bytes; none points into LMDB.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.h"

namespace brelay::storage {

// `[storage] sync`: kCommit makes every commit durable (fdatasync) before it is published to
// readers; kNone never syncs (tests and throw-away relays only: a power loss can lose or damage
// the store).
enum class SyncMode { kCommit, kNone };

// The end of the last complete transaction that is durable and visible to readers: the position
// where the next event of `file` will be appended, and where an upstream resumes pulling.
struct ResumePoint {
  std::string file;
  std::uint32_t file_seq = 0;  // the store's sequence number of `file`
  std::uint64_t position = 0;
  std::int64_t timestamp = 0;  // the boundary event's timestamp, as the caller gave it
  Bytes last_gtid;             // GTID of the last complete transaction (empty: none stored yet)
  Bytes executed_gtid_set;     // the caller's blob given with that boundary (empty: none given)

  bool operator==(const ResumePoint&) const = default;
};

// One stored binlog file, as SHOW BINARY LOGS and positioning need it. Positions are the source's
// byte offsets in that file; [first_position, end_position) is stored and complete.
struct FileInfo {
  std::uint32_t seq = 0;  // the store's sequence number: files are ordered by it
  std::string name;
  std::uint64_t first_position = 0;
  std::uint64_t end_position = 0;
  std::int64_t first_timestamp = 0;  // of the file's first stored event (source clock; 0: none yet)
  std::int64_t last_timestamp = 0;   // of its last complete transaction's boundary event
  std::int64_t created_time = 0;     // relay clock (Unix seconds) when the file began
  std::int64_t last_write_time = 0;  // relay clock when its data last committed (age retention)
  bool closed = false;               // the source rotated away from it; nothing more is appended
  // The size of its compressed form (compression.h) when the file is stored compressed, else 0.
  std::uint64_t compressed_bytes = 0;
  Bytes format_description;  // the file's FDE, as the caller gave it
  Bytes previous_gtids;      // the caller's previous-GTID blob for the file

  std::uint64_t stored_bytes() const { return end_position - first_position; }
};

// The code of errors that mean the store's data is damaged (an event file missing or shorter than
// the index says, an index page that fails its check): LMDB's MDB_CORRUPTED.
inline constexpr int kStoreDamagedCode = -30796;

// Damage that readers found in stored data and reported (BinlogStore::report_damage): an event
// whose CRC32 does not match its bytes, an event file shorter than the index says or missing.
struct StoreDamage {
  std::uint64_t events = 0;  // distinct damaged places reported since the store was opened
  std::string last_file;     // the source's file name of the last report
  std::uint64_t last_position = 0;
  std::string last_what;  // what was wrong there
};

struct StoreStats {
  std::size_t file_count = 0;
  std::uint64_t stored_bytes = 0;             // event bytes of all listed files
  std::int64_t oldest_timestamp = 0;          // first_timestamp of the oldest file (0: none)
  std::uint64_t data_file_bytes = 0;          // disk the store uses: LMDB pages and event files
  std::uint64_t map_bytes = 0;                // the map size: the most the data file may grow to
  std::uint64_t filesystem_free_bytes = 0;    // free space on the data directory's filesystem
  std::size_t compressed_files = 0;           // listed files stored compressed (compression.h)
  std::uint64_t compressed_stored_bytes = 0;  // their stored_bytes
  std::uint64_t compressed_disk_bytes = 0;    // their compressed files' sizes
  std::optional<ResumePoint> durable_end;
};

}  // namespace brelay::storage
