#include "storage/binlog_store.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

#include "storage/lmdb_cursor.h"
#include "storage/lmdb_page_check.h"
#include "storage/lmdb_txn.h"
#include "storage/store_edits.h"
#include "storage/store_format.h"
#include "storage/store_internals.h"
#include "storage/store_recovery.h"
#include "storage/store_writer.h"

namespace brelay::storage {
namespace {

constexpr std::uint64_t kMapGranularity = std::uint64_t{1} << 20;

Result<std::uint64_t> map_size_for(const std::string& data_dir, std::uint64_t requested) {
  std::uint64_t size = requested;
  if (size == 0) {
    struct statvfs fs {};
    if (statvfs(data_dir.c_str(), &fs) != 0) {
      return make_error_code(errno, "reading the size of the filesystem of {}: {}", data_dir,
                             std::strerror(errno));
    }
    size = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
  }
  std::error_code ec;
  const auto existing = std::filesystem::file_size(std::filesystem::path(data_dir) / "data.mdb", ec);
  if (!ec) size = std::max<std::uint64_t>(size, existing);
  return (size + kMapGranularity - 1) / kMapGranularity * kMapGranularity;
}

// Version 4 to 5 (store_format.h): compressed files keep no runs, and their GTID positions go
// into their GTID lists.
Status convert_compressed_files(LmdbTxn& txn, const StoreDatabases& dbs) {
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor files, LmdbCursor::open(txn, dbs.files));
  std::vector<std::uint32_t> compressed;
  BRELAY_ASSIGN_OR_RETURN(auto entry, files.first());
  while (entry) {
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(entry->key));
    BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(entry->value));
    if (record.compression) compressed.push_back(seq);
    BRELAY_ASSIGN_OR_RETURN(entry, files.next());
  }
  for (std::uint32_t seq : compressed)
    BRELAY_TRY(drop_index_of_compressed_file(txn, dbs, seq));
  return {};
}

// The store's format version: a new store gets the current one; an existing one must have a
// version this release reads (an older one is converted by BinlogStore::convert_format once the
// keys are loaded). An environment that holds databases of its own is not ours to write into.
Result<std::uint32_t> check_format_version(LmdbTxn& txn, const StoreDatabases& dbs,
                                           const std::string& data_dir, bool writable) {
  BRELAY_ASSIGN_OR_RETURN(auto stored, txn.get(dbs.meta, as_bytes(meta_key::kFormatVersion)));
  if (stored) {
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t version, decode_u32_value(*stored, "store format version"));
    if (version < kOldestConvertibleStoreFormatVersion || version > kStoreFormatVersion) {
      return make_error(
          "the store in {} has format version {}, and this binlog-relay reads versions {} to {} only: run "
          "the binlog-relay release that wrote it, or move the directory away to start a new store",
          data_dir, version, kOldestConvertibleStoreFormatVersion, kStoreFormatVersion);
    }
    return version;
  }
  if (!writable)
    return make_error("the store in {} has no format version: it was never opened for writing", data_dir);
  const std::set<std::string_view> ours = {
      db_name::kEvents, db_name::kFiles,     db_name::kFileNames, db_name::kGtids,  db_name::kGtidPositions,
      db_name::kMeta,   db_name::kRelayMeta, db_name::kReplicas,  db_name::kFrames, db_name::kGtidLists};
  BRELAY_ASSIGN_OR_RETURN(MDB_dbi main, txn.open_database(nullptr, 0));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, main));
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    if (!ours.contains(as_text(entry->key))) {
      return make_error(
          "{} holds an LMDB environment that is not a binlog-relay store (it has a database '{}'): point "
          "[storage] data_dir at an empty directory",
          data_dir, as_text(entry->key));
    }
    BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  for (MDB_dbi dbi : {dbs.events, dbs.files, dbs.meta}) {
    BRELAY_ASSIGN_OR_RETURN(LmdbCursor any, LmdbCursor::open(txn, dbi));
    BRELAY_ASSIGN_OR_RETURN(auto first, any.first());
    if (first) {
      return make_error("the store in {} has data but no format version: it was not written by binlog-relay",
                        data_dir);
    }
  }
  const Bytes version = encode_u32_value(kStoreFormatVersion);
  BRELAY_TRY(txn.put(dbs.meta, as_bytes(meta_key::kFormatVersion), version));
  return kStoreFormatVersion;
}

}  // namespace

Result<std::unique_ptr<BinlogStore>> BinlogStore::open(const std::string& data_dir, StoreOptions options) {
  std::optional<DirectoryLock> lock;
  if (!options.read_only) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec) return make_error_code(ec.value(), "creating the data directory {}: {}", data_dir, ec.message());
    BRELAY_ASSIGN_OR_RETURN(lock, DirectoryLock::acquire(data_dir, "writer.lock"));
  }
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t map_size, map_size_for(data_dir, options.map_size));

  LmdbEnv::Options env_options;
  env_options.map_size = map_size;
  env_options.max_readers = options.max_readers;
  // MDB_NOTLS: read transactions belong to StoreReaders, many of them on the one loop thread.
  env_options.flags = MDB_NOTLS;
  if (options.read_only) {
    env_options.flags |= MDB_RDONLY;
  } else {
    env_options.flags |= options.sync == SyncMode::kNone ? MDB_NOSYNC : MDB_NOMETASYNC;
  }
  BRELAY_ASSIGN_OR_RETURN(LmdbEnv env, LmdbEnv::open(data_dir, env_options));
  // LMDB trusts its pages: a damaged one must be an error here, not a fault in a later read.
  BRELAY_TRY(check_lmdb_pages(env, data_dir));

  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn,
                          options.read_only ? LmdbTxn::begin_read(env) : LmdbTxn::begin_write(env));
  auto dbs = StoreDatabases::open(txn, !options.read_only);
  if (!dbs && dbs.error().code() == MDB_NOTFOUND) {
    return make_error("{} holds no binlog-relay store to read", data_dir);
  }
  BRELAY_TRY(dbs);
  BRELAY_ASSIGN_OR_RETURN(const std::uint32_t version,
                          check_format_version(txn, *dbs, data_dir, !options.read_only));
  BRELAY_TRY(txn.commit());
  BRELAY_ASSIGN_OR_RETURN(auto event_files, EventFiles::open(data_dir, options.read_only));

  auto internals = std::make_unique<StoreInternals>(data_dir, options.sync, std::move(env), *dbs,
                                                    std::move(event_files), options.master_keys);
  std::unique_ptr<BinlogStore> store(
      new BinlogStore(std::move(options), std::move(lock), std::move(internals)));
  // Every older value is a current value, except that an older encrypted file record has no
  // keystream part; a read-only open reads the older store as it is.
  store->internals_->ciphers().set_unbound_records_accepted(version < kStoreFormatVersion);
  BRELAY_TRY(store->load_file_ciphers(version));
  if (!store->read_only() && version < kStoreFormatVersion) BRELAY_TRY(store->convert_format(version));
  if (store->read_only()) {
    BRELAY_TRY(store->load_durable_end());
  } else {
    BRELAY_TRY(store->recover());
  }
  return store;
}

BinlogStore::BinlogStore(StoreOptions options, std::optional<DirectoryLock> lock,
                         std::unique_ptr<StoreInternals> internals)
    : options_(std::move(options)), writer_lock_(std::move(lock)), internals_(std::move(internals)) {}

Status BinlogStore::load_durable_end() {
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_->env()));
  BRELAY_ASSIGN_OR_RETURN(auto resume, read_resume_record(txn, internals_->dbs()));
  internals_->publish(resume ? std::optional<ResumePoint>(to_resume_point(*resume)) : std::nullopt);
  return {};
}

BinlogStore::~BinlogStore() = default;

Status BinlogStore::load_file_ciphers(std::uint32_t version) {
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_->env()));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, internals_->dbs().files));
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(entry->key));
    BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(entry->value));
    if (version < kStoreFormatVersion && record.encryption && record.encryption->keystream_part) {
      // Only version 6 writes keystream parts: the version number was set back, which would have
      // the records of the older form (whose MACs do not bind their nonces) accepted again.
      return make_error_code(
          kStoreDamagedCode,
          "the store in {} says format version {} but binary log {} has a record of version {} or later: the "
          "store's format version was changed on disk; restore the data directory from a backup",
          directory(), version, record.name, kStoreFormatVersion);
    }
    BRELAY_TRY(internals_->ciphers().of(seq, record));
    BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return {};
}

Status BinlogStore::convert_format(std::uint32_t version) {
  const StoreDatabases& dbs = internals_->dbs();
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(internals_->env()));
  if (version <= 4) BRELAY_TRY(convert_compressed_files(txn, dbs));
  std::vector<std::pair<std::array<std::uint8_t, 4>, Bytes>> upgraded;
  {
    BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, dbs.files));
    BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.first());
    while (entry) {
      BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(entry->value));
      if (record.encryption && !record.encryption->keystream_part) {
        BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(entry->key));
        BRELAY_ASSIGN_OR_RETURN(std::optional<FileCipher> cipher, internals_->ciphers().of(seq, record));
        auto value = add_keystream_part(record, *cipher);
        if (value) {
          upgraded.emplace_back(encode_file_key(seq), std::move(*value));
        } else if (value.error().code() != kStoreDamagedCode) {
          return std::move(value).error();
        }  // a damaged record stays as it is: damage when its file is read, as before
      }
      BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
    }
  }
  for (const auto& [key, value] : upgraded)
    BRELAY_TRY(txn.put(dbs.files, key, value));
  const Bytes current = encode_u32_value(kStoreFormatVersion);
  BRELAY_TRY(txn.put(dbs.meta, as_bytes(meta_key::kFormatVersion), current));
  BRELAY_TRY(txn.commit());
  BRELAY_TRY(internals_->sync_after_write());
  internals_->ciphers().set_unbound_records_accepted(false);
  return {};
}

Result<BinlogStore::EncryptionSummary> BinlogStore::encryption_summary() const {
  EncryptionSummary summary;
  if (const crypto::MasterKeys* keys = internals_->ciphers().keys())
    summary.current_master_id = keys->current().id;
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_->env()));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, internals_->dbs().files));
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(entry->value));
    (record.encryption ? summary.encrypted_files : summary.plain_files) += 1;
    BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return summary;
}

Result<std::size_t> BinlogStore::rewrap_data_keys() {
  if (read_only()) return make_error("the store in {} is open read-only", directory());
  const crypto::MasterKeys* keys = internals_->ciphers().keys();
  if (keys == nullptr)
    return make_error("rekey needs the encryption key file ([storage] encryption_key_file)");
  const crypto::MasterKey& current = keys->current();
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(internals_->env()));
  std::vector<std::pair<std::array<std::uint8_t, 4>, Bytes>> rewrapped;
  {
    BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, internals_->dbs().files));
    BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.first());
    while (entry) {
      BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(entry->key));
      BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(entry->value));
      if (record.encryption && record.encryption->data_key.master_id != current.id) {
        BRELAY_ASSIGN_OR_RETURN(std::optional<FileCipher> cipher, internals_->ciphers().of(seq, record));
        BRELAY_ASSIGN_OR_RETURN(record.encryption->data_key, crypto::wrap_data_key(current, cipher->key));
        rewrapped.emplace_back(encode_file_key(seq), record.encode());
      }
      BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
    }
  }
  for (const auto& [key, value] : rewrapped)
    BRELAY_TRY(txn.put(internals_->dbs().files, key, value));
  BRELAY_TRY(txn.commit());
  BRELAY_TRY(internals_->sync_after_write());
  return rewrapped.size();
}

Status BinlogStore::recover() {
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(internals_->env()));
  BRELAY_ASSIGN_OR_RETURN(TrimReport trimmed, trim_to_resume_point(txn, internals_->dbs()));
  if (trimmed.empty()) {
    txn.abort();
  } else {
    BRELAY_TRY(txn.commit());
  }
  BRELAY_TRY(internals_->sync_after_write());
  // A lone commit acknowledged from its event file's commit record, its index lost (issue 17).
  BRELAY_TRY(StoreWriter::recover_lone_commit(*this));
  BRELAY_TRY(reconcile_event_files(*internals_));
  return load_durable_end();
}

std::int64_t BinlogStore::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::string& BinlogStore::directory() const {
  return internals_->directory();
}

std::optional<ResumePoint> BinlogStore::durable_end() const {
  return internals_->durable_end();
}

std::size_t BinlogStore::registered_readers() const {
  return internals_->readers().size();
}

void BinlogStore::report_damage(const std::string& file, std::uint64_t position, const std::string& what) {
  // Bounded: past this many places, every report counts.
  constexpr std::size_t kRememberedPlaces = 1024;
  std::lock_guard lock(damage_mutex_);
  const bool known = damaged_at_.contains({file, position});
  if (!known && damaged_at_.size() < kRememberedPlaces) damaged_at_.emplace(file, position);
  if (!known) damage_.events += 1;
  damage_.last_file = file;
  damage_.last_position = position;
  damage_.last_what = what;
}

StoreDamage BinlogStore::damage() const {
  std::lock_guard lock(damage_mutex_);
  return damage_;
}

Result<std::vector<FileInfo>> BinlogStore::list_files() const {
  std::vector<FileInfo> files;
  const DurableLimit limit = internals_->durable_limit();
  if (!limit.any) return files;
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_->env()));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, internals_->dbs().files));
  BRELAY_ASSIGN_OR_RETURN(auto entry, cursor.first());
  while (entry) {
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(entry->key));
    if (seq > limit.file_seq) break;
    BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(entry->value));
    BRELAY_ASSIGN_OR_RETURN(FileInfo info, plain_file_info(*internals_, seq, record));
    if (seq == limit.file_seq) info.end_position = std::min(info.end_position, limit.position);
    files.push_back(std::move(info));
    BRELAY_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return files;
}

Result<std::optional<FileInfo>> BinlogStore::find_file(std::string_view name) const {
  const DurableLimit limit = internals_->durable_limit();
  if (!limit.any) return std::optional<FileInfo>();
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_->env()));
  BRELAY_ASSIGN_OR_RETURN(auto seq_value, txn.get(internals_->dbs().file_names, as_bytes(name)));
  if (!seq_value) return std::optional<FileInfo>();
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(*seq_value));
  if (seq > limit.file_seq) return std::optional<FileInfo>();
  BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(internals_->dbs().files, encode_file_key(seq)));
  if (!value) return make_error("the store names file {} #{} but has no record of it", name, seq);
  BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(*value));
  BRELAY_ASSIGN_OR_RETURN(FileInfo info, plain_file_info(*internals_, seq, record));
  if (seq == limit.file_seq) info.end_position = std::min(info.end_position, limit.position);
  return std::optional<FileInfo>(std::move(info));
}

Result<StoreStats> BinlogStore::stats() const {
  StoreStats stats;
  BRELAY_ASSIGN_OR_RETURN(std::vector<FileInfo> files, list_files());
  stats.file_count = files.size();
  for (const FileInfo& file : files) {
    stats.stored_bytes += file.stored_bytes();
    if (file.compressed_bytes > 0) {
      ++stats.compressed_files;
      stats.compressed_stored_bytes += file.stored_bytes();
      stats.compressed_disk_bytes += file.compressed_bytes;
    }
  }
  if (!files.empty()) stats.oldest_timestamp = files.front().first_timestamp;
  const LmdbEnv& env = internals_->env();
  const MDB_envinfo info = env.info();
  stats.data_file_bytes = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * env.page_size() +
                          internals_->event_files().disk_bytes();
  stats.map_bytes = info.me_mapsize;
  stats.filesystem_free_bytes = internals_->filesystem_free_bytes();
  stats.durable_end = durable_end();
  return stats;
}

Result<Bytes> BinlogStore::purged_gtid_set() const {
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_->env()));
  BRELAY_ASSIGN_OR_RETURN(LmdbCursor cursor, LmdbCursor::open(txn, internals_->dbs().files));
  BRELAY_ASSIGN_OR_RETURN(auto oldest, cursor.first());
  if (!oldest) return Bytes();
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t seq, decode_file_key(oldest->key));
  BRELAY_ASSIGN_OR_RETURN(FileRecordView record, FileRecordView::decode(oldest->value));
  BRELAY_ASSIGN_OR_RETURN(FileInfo info, plain_file_info(*internals_, seq, record));
  return std::move(info.previous_gtids);
}

Result<std::optional<Bytes>> BinlogStore::get_meta(std::string_view key) const {
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(internals_->env()));
  BRELAY_ASSIGN_OR_RETURN(auto value, txn.get(internals_->dbs().relay_meta, as_bytes(key)));
  if (!value) return std::optional<Bytes>();
  return std::optional<Bytes>(Bytes(value->begin(), value->end()));
}

Status BinlogStore::put_meta(std::string_view key, ByteView value) {
  if (read_only()) return make_error("the store in {} is open read-only", directory());
  const std::size_t max_key = internals_->env().max_key_size();
  if (key.empty() || key.size() > max_key) {
    return make_error("a relay metadata key must have 1 to {} bytes, '{}' has {}", max_key, key, key.size());
  }
  BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_write(internals_->env()));
  BRELAY_TRY(txn.put(internals_->dbs().relay_meta, as_bytes(key), value));
  BRELAY_TRY(txn.commit());
  return internals_->sync_after_write();
}

}  // namespace brelay::storage
