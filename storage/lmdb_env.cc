#include "storage/lmdb_env.h"

#include <cstring>

#include <utility>

namespace brelay::storage {

Error lmdb_error(int rc, std::string_view what) {
  std::string hint;
  if (rc == MDB_MAP_FULL)
    hint = "; the store's map is full: purge old binlog files or give the store more room";
  if (rc == ENOSPC) hint = "; the disk is full: free space on the data directory's filesystem";
  if (rc == EACCES) hint = "; check the data directory's owner and permissions";
  if (rc == MDB_READERS_FULL) hint = "; too many concurrent readers: raise the store's reader limit";
  if (rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND) {
    hint =
        "; the store's index (data.mdb) is damaged: restore the data directory from a backup, or move it "
        "away and start a new store";
  }
  if (rc == MDB_PANIC) hint = "; the store can no longer be written: restart binlog-relay to reopen it";
  return Error(fmt::format("{}: {}{}", what, mdb_strerror(rc), hint), rc);
}

Result<LmdbEnv> LmdbEnv::open(const std::string& directory, const Options& options) {
  MDB_env* raw = nullptr;
  if (int rc = mdb_env_create(&raw); rc != 0) return lmdb_error(rc, "creating the LMDB environment");
  LmdbEnv env(raw);
  if (int rc = mdb_env_set_mapsize(raw, options.map_size); rc != 0) {
    return lmdb_error(rc, "setting the LMDB map size");
  }
  if (int rc = mdb_env_set_maxdbs(raw, options.max_databases); rc != 0) {
    return lmdb_error(rc, "setting the number of LMDB databases");
  }
  if (int rc = mdb_env_set_maxreaders(raw, options.max_readers); rc != 0) {
    return lmdb_error(rc, "setting the number of LMDB readers");
  }
  if (int rc = mdb_env_open(raw, directory.c_str(), options.flags, 0640); rc != 0) {
    return lmdb_error(rc, fmt::format("opening the store in {}", directory));
  }
  return env;
}

LmdbEnv& LmdbEnv::operator=(LmdbEnv&& other) noexcept {
  if (this != &other) {
    if (env_ != nullptr) mdb_env_close(env_);
    env_ = std::exchange(other.env_, nullptr);
  }
  return *this;
}

LmdbEnv::~LmdbEnv() {
  if (env_ != nullptr) mdb_env_close(env_);
}

Status LmdbEnv::sync(bool force) const {
  if (int rc = mdb_env_sync(env_, force ? 1 : 0); rc != 0) return lmdb_error(rc, "syncing the store to disk");
  return {};
}

MDB_envinfo LmdbEnv::info() const {
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info;
}

std::size_t LmdbEnv::page_size() const {
  MDB_stat stat{};
  mdb_env_stat(env_, &stat);
  return stat.ms_psize;
}

std::size_t LmdbEnv::max_key_size() const {
  return static_cast<std::size_t>(mdb_env_get_maxkeysize(env_));
}

Result<std::uint64_t> LmdbEnv::free_pages() const {
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn); rc != 0)
    return lmdb_error(rc, "reading the free list");
  MDB_cursor* cursor = nullptr;
  // Database 0 is LMDB's free list: each value is a page list whose first word is its length.
  if (int rc = mdb_cursor_open(txn, 0, &cursor); rc != 0) {
    mdb_txn_abort(txn);
    return lmdb_error(rc, "reading the free list");
  }
  std::uint64_t pages = 0;
  MDB_val key{}, value{};
  int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
  while (rc == 0) {
    if (value.mv_size >= sizeof(std::size_t)) {
      std::size_t count = 0;
      std::memcpy(&count, value.mv_data, sizeof(count));
      pages += count;
    }
    rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  if (rc != MDB_NOTFOUND) return lmdb_error(rc, "reading the free list");
  return pages;
}

Result<std::uint64_t> LmdbEnv::unused_map_bytes() const {
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t free, free_pages());
  const MDB_envinfo env_info = info();
  const std::uint64_t used = (static_cast<std::uint64_t>(env_info.me_last_pgno) + 1) * page_size();
  const std::uint64_t never_used = env_info.me_mapsize > used ? env_info.me_mapsize - used : 0;
  return never_used + free * page_size();
}

}  // namespace brelay::storage
