#include "storage/lmdb_env.h"

#include <utility>

namespace brelay::storage {

Error lmdb_error(int rc, std::string_view what) {
  std::string hint;
  if (rc == MDB_MAP_FULL)
    hint = "; the store's map is full: purge old binlog files or give the store more room";
  if (rc == ENOSPC) hint = "; the disk is full: free space on the data directory's filesystem";
  if (rc == EACCES) hint = "; check the data directory's owner and permissions";
  if (rc == MDB_READERS_FULL) hint = "; too many concurrent readers: raise the store's reader limit";
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

Status LmdbEnv::set_flags(unsigned flags, bool on) const {
  if (int rc = mdb_env_set_flags(env_, flags, on ? 1 : 0); rc != 0)
    return lmdb_error(rc, "setting store flags");
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

}  // namespace brelay::storage
