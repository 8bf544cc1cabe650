// Test helpers for the storage tests: a stream of deterministic binlog-like files and transactions
// that writes itself into WriteBatches and remembers what it wrote (so reads can be compared byte
// for byte), and a log of StoreWriter progress that tests can wait on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/binlog_store.h"
#include "storage/file_ciphers.h"
#include "storage/lmdb_txn.h"
#include "storage/store_databases.h"
#include "storage/store_writer.h"
#include "storage/write_batch.h"

namespace brelay::testing {

using storage::EventAppend;
using storage::FileStart;
using storage::StoreWriter;
using storage::WriteBatch;

// `size` bytes that depend on `seed`: a 19-byte header shaped like a binlog v4 header (timestamp,
// type, server id, size, next position, flags), then filler.
Bytes make_event(std::uint64_t seed, std::size_t size, std::uint64_t position = 0);

// The GTID key the tests use for transaction number `n`: 8 bytes, big-endian.
Bytes gtid_key(std::uint64_t n);

struct StoredEvent {
  std::string file;
  std::uint64_t position = 0;
  Bytes bytes;
  bool boundary = false;
};

class TestStream {
 public:
  explicit TestStream(std::string prefix = "source-bin") : prefix_(std::move(prefix)) {}

  // Begins file number next_file_number() (first position 4), with an FDE and previous GTIDs.
  std::string begin_file(WriteBatch& batch, std::int64_t timestamp = 1'700'000'000);
  void end_file(WriteBatch& batch);
  // One transaction of `events` events of `size` bytes each: the first carries the next GTID, the
  // last ends the transaction. Returns its GTID number.
  std::uint64_t transaction(WriteBatch& batch, int events, std::size_t size,
                            std::int64_t timestamp = 1'700'000'000);
  // Appends events without ending a transaction (the first carries a GTID when `starts` is true).
  void unfinished_events(WriteBatch& batch, int events, std::size_t size, bool starts = true);
  // Forgets the events appended since the last boundary (mirrors WriteBatch::abandon_transaction).
  void abandon(WriteBatch& batch);
  // Forgets everything from `position` of the current file on (`position` must be a boundary there),
  // as a producer does when a stopped writer resumes from the durable end.
  void rewind_to(std::uint64_t position);

  const std::string& current_file() const { return file_; }
  std::uint64_t next_position() const { return position_; }
  // Position right after the last complete transaction of the current file.
  std::uint64_t boundary_position() const { return boundary_; }
  std::uint64_t transactions() const { return next_gtid_ - 1; }
  // Every event appended so far, in order (complete transactions and unfinished tail).
  const std::vector<StoredEvent>& events() const { return events_; }
  // The complete part: events up to the last boundary.
  std::vector<StoredEvent> complete_events() const;
  // Where each GTID's transaction starts.
  const std::map<std::uint64_t, std::pair<std::string, std::uint64_t>>& gtid_starts() const {
    return gtid_starts_;
  }
  static Bytes format_description_for(const std::string& file);
  static Bytes previous_gtids_for(std::uint64_t next_gtid);

 private:
  std::string prefix_;
  int file_number_ = 0;
  std::string file_;
  std::uint64_t position_ = 0;
  std::uint64_t boundary_ = 0;
  std::uint64_t next_gtid_ = 1;
  std::uint64_t seed_ = 1;
  std::vector<StoredEvent> events_;
  std::map<std::uint64_t, std::pair<std::string, std::uint64_t>> gtid_starts_;
};

// Reads every durable event of the store from the oldest file on with a StoreReader, one event per
// entry (boundary flags are not stored, so they read back false). `max_bytes` is the read size.
Result<std::vector<StoredEvent>> read_everything(storage::BinlogStore& store,
                                                 std::size_t max_bytes = 1 << 20);

// Edits the LMDB index of a closed store directly, in one write transaction that commits when
// `edit` succeeds, as another program, an older version or a damaged disk would have left it.
Status edit_index(const std::string& data_dir,
                  const std::function<Status(storage::LmdbTxn&, const storage::StoreDatabases&)>& edit);

// Writes `version` as the closed store's format version (edit_index), as an older relay left it.
Status write_format_version(const std::string& data_dir, std::uint32_t version);

// An encrypted file record as a store of version 3 to 5 wrote it: no keystream part, and a MAC over
// the encrypted FDE and previous GTIDs only (`cipher`: the file's; the record has no segments).
Bytes version_5_record(const storage::FileRecordView& record, const storage::FileCipher& cipher);
// In `txn` (edit_index): every encrypted file record rewritten as version_5_record(), with the
// data keys of `keys`. An error for a record with keystream segments (a version 5 store has none).
Status rewrite_records_as_version_5(storage::LmdbTxn& txn, const storage::StoreDatabases& dbs,
                                    std::shared_ptr<const storage::crypto::MasterKeys> keys);
// The format version an open store's index holds.
Result<std::uint32_t> stored_format_version(storage::BinlogStore& store);

// "" when `actual` equals `expected` file by file, position by position, byte for byte; otherwise
// a description of the first difference.
std::string compare_events(const std::vector<StoredEvent>& actual, const std::vector<StoredEvent>& expected);

// Records every StoreWriter progress report; tests wait on it.
class ProgressLog {
 public:
  StoreWriter::ProgressCallback callback();
  // Waits until `done(latest)` holds; false after `timeout`.
  bool wait_until(const std::function<bool(const StoreWriter::Progress&)>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits until the durable end is at `position` of `file`.
  bool wait_durable(const std::string& file, std::uint64_t position,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));
  StoreWriter::Progress latest() const;
  std::size_t reports() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<StoreWriter::Progress> reports_;
};

// Begins `stream`'s file with one transaction of two 100-byte events, submits it to `writer` and
// waits until `log` reports it durable: the writer's newest file is then one it created and indexed.
Status write_first_transaction(StoreWriter& writer, ProgressLog& log, TestStream& stream);

}  // namespace brelay::testing
