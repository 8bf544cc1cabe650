// BinlogStore: the durable LMDB binlog store of one data directory. It owns the LMDB environment,
// checks the format version, recovers on open (whatever lies after the last complete transaction
// is removed, so the store always ends on a transaction boundary), publishes the durable end that
// readers may not pass, and answers listing and metadata questions. Events are written by the one
// StoreWriter (store_writer.h), read by StoreReaders (store_reader.h) and purged by retention
// (retention.h); all of them borrow the store, which must outlive them.
//
// The store does not parse events: callers hand it the bytes plus what they know about them (file,
// position, transaction boundary, GTID, timestamp), and get the same bytes back.
//
// Layout: LMDB (data.mdb) holds the index and metadata; the events' bytes are in one event file per
// stored binlog file under events/ (event_files.h explains why and the crash rule that ties the
// two together); sealed files may be rewritten compressed (compression.h).
//
// Map size: LMDB's map is a fixed address range, and mdb_env_set_mapsize is only safe while no
// transaction of the process is active, which readers on the loop thread make impossible to
// promise. So the store reserves, once at open, a range as large as the filesystem holding the data
// directory (StoreOptions::map_size overrides it). Without MDB_WRITEMAP the data file grows only as
// pages are written, so the reservation costs address space only, and the map can never fill before
// the disk does. If the filesystem grows while the relay runs, the new room is used after a restart.
// MDB_WRITEMAP is not used: a page fault on a full filesystem would be a SIGBUS, not an error.
//
// Durability (SyncMode::kCommit): a commit first fdatasyncs the event bytes it indexes. The
// environment is opened with MDB_NOMETASYNC, so the LMDB commit can cost one fdatasync (index
// pages) and write its meta page without syncing it; the writer publishes
// a commit only once its meta page is on disk too (see store_writer.h for how it alternates between
// that and LMDB's synchronous meta write), or, for a lone commit, once its event file holds its
// bytes and a commit record that recovery trusts (commit_record.h). Every other write (recovery,
// purge, put_meta) forces a sync itself before returning.
//
// Threads: every public method may be called from any thread. One process at a time may open a
// store for writing (a lock file in the data directory enforces it); read-only opens may come from
// other processes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/at_rest_crypto.h"
#include "storage/directory_lock.h"
#include "storage/replica_record.h"
#include "storage/store_types.h"

namespace brelay::storage {

class StoreInternals;

struct StoreOptions {
  // Read-only opens (tools such as `binlog-relay dump`, possibly while the relay runs) neither
  // create nor recover the store, cannot write, and see the durable end as of the open.
  bool read_only = false;
  SyncMode sync = SyncMode::kCommit;
  // 0: the size of the data directory's filesystem (at least the data file's size).
  std::uint64_t map_size = 0;
  // Concurrent read transactions: one per StoreReader (each keeps its own) plus a few for listing.
  unsigned max_readers = 1024;
  // The master keys of `[storage] encryption_key_file` (crypto::load_key_file); null: none. With
  // keys, every new file is encrypted (its data key wrapped by keys->current()); files stored
  // plain stay plain. A store holding encrypted files does not open without the master keys they
  // name (the error names the key id).
  std::shared_ptr<const crypto::MasterKeys> master_keys;
  // The relay's wall clock in Unix seconds, for file creation and write times; empty: the system
  // clock. Tests substitute their own.
  std::function<std::int64_t()> clock;
};

class BinlogStore {
 public:
  // Opens the store in `data_dir` (created if missing), creating an empty store of the current
  // format version when there is none, and recovers it (see the header comment). A store of the
  // previous format version (2) is converted in place by a writable open and read as it is by a
  // read-only one. An unknown format version, an LMDB environment that is not a binlog-relay store,
  // encrypted files without their master key, or a store another process has open for writing is
  // an error.
  static Result<std::unique_ptr<BinlogStore>> open(const std::string& data_dir, StoreOptions options = {});

  BinlogStore(const BinlogStore&) = delete;
  BinlogStore& operator=(const BinlogStore&) = delete;
  ~BinlogStore();

  const std::string& directory() const;
  bool read_only() const { return options_.read_only; }
  SyncMode sync_mode() const { return options_.sync; }
  std::int64_t now() const;

  // The published durable end (nullopt: no complete transaction stored yet). Readers never pass
  // it; an upstream resumes from it.
  std::optional<ResumePoint> durable_end() const;

  // The stored files, oldest first, as far as the durable end (a file begun after it is not listed
  // and the durable end's file is listed up to it).
  Result<std::vector<FileInfo>> list_files() const;
  // One listed file by its name; nullopt when it is not stored (or not yet durable).
  Result<std::optional<FileInfo>> find_file(std::string_view name) const;
  Result<StoreStats> stats() const;
  // What @@gtid_purged means: the previous-GTID blob of the oldest stored file (empty: no file).
  Result<Bytes> purged_gtid_set() const;

  // The relay's durable key/values (source identity, its own server_uuid, ...). put_meta commits
  // and syncs on its own; a StoreWriter batch can also carry puts, ordered with its events.
  Result<std::optional<Bytes>> get_meta(std::string_view key) const;
  Status put_meta(std::string_view key, ByteView value);

  std::size_t registered_readers() const;

  // How many stored files are encrypted and how many plain (as of the open and the writer's new
  // files since).
  struct EncryptionSummary {
    std::size_t encrypted_files = 0;
    std::size_t plain_files = 0;
    std::uint32_t current_master_id = 0;  // the key new files get (0: no keys configured)
  };
  Result<EncryptionSummary> encryption_summary() const;
  // `binlog-relay rekey`: rewraps the data key of every encrypted file that is not wrapped by the
  // current master key under it, in one transaction (synced); event bytes are not touched.
  // Returns how many were rewrapped. Needs a writable open with master keys.
  Result<std::size_t> rewrap_data_keys();

  // The remembered replicas (replica_record.h), by server_id. A damaged record is an Error naming
  // it, unless `damaged` is given: then it is skipped and appended there.
  struct DamagedReplicaRecord {
    std::optional<std::uint32_t> server_id;  // nullopt: the key itself is damaged
    Error error;
  };
  Result<std::vector<ReplicaRecord>> replica_records(
      std::vector<DamagedReplicaRecord>* damaged = nullptr) const;
  // Puts `records` and deletes the records of `forget` in one transaction, then syncs. Blocks while
  // another write transaction runs: the relay calls it on the writer thread
  // (StoreWriter::request_replica_update).
  Status update_replica_records(const std::vector<ReplicaRecord>& records,
                                const std::vector<std::uint32_t>& forget);

  // Readers that find damaged stored data (the store does not parse events: relay/ checks their
  // CRC32s) report it here, naming the source's file and position; damage() is what was reported
  // since the open (for /health, status and metrics). A place reported again is counted once.
  void report_damage(const std::string& file, std::uint64_t position, const std::string& what);
  StoreDamage damage() const;

  // Storage-internal (store_internals.h): what StoreWriter, StoreReader and Retention work on.
  // Code outside storage/ has no use for it.
  StoreInternals& internals() { return *internals_; }
  const StoreInternals& internals() const { return *internals_; }

 private:
  BinlogStore(StoreOptions options, std::optional<DirectoryLock> lock,
              std::unique_ptr<StoreInternals> internals);
  // Publishes the stored resume point as the durable end without changing anything.
  Status load_durable_end();
  Status recover();
  // Unwraps every encrypted file's data key (an error names a missing key id). A record with a
  // keystream part in a store of an older format `version` is damage: the version was set back.
  Status load_file_ciphers(std::uint32_t version);
  // Converts a store of an older format `version` (a writable open, after the keys are loaded), in
  // one transaction with the new version number: a version 4 store's compressed files lose their
  // runs (store_format.h), and every encrypted file record of version 3 to 5 gets its keystream
  // part (its MAC checked in the old form and made in the new one; a record that fails the check
  // stays as it was, damage when its file is read).
  Status convert_format(std::uint32_t version);

  const StoreOptions options_;
  std::optional<DirectoryLock> writer_lock_;  // held by writable opens
  const std::unique_ptr<StoreInternals> internals_;

  mutable std::mutex damage_mutex_;
  StoreDamage damage_;                                          // guarded by damage_mutex_
  std::set<std::pair<std::string, std::uint64_t>> damaged_at_;  // guarded by damage_mutex_
};

}  // namespace brelay::storage
