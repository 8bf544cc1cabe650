// LmdbEnv: a move-only owner of one MDB_env opened on a data directory. Errors are values that name
// the directory and say what to do; the destructor closes the environment, so every transaction and
// cursor of it must be gone first (BinlogStore owns the environment and outlives its readers and
// its writer). Every method may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <lmdb.h>

#include "common/result.h"

namespace brelay::storage {

// Describes an LMDB return code (or errno) with mdb_strerror and, where it helps, what to do about
// it; the Error's code is `rc`.
Error lmdb_error(int rc, std::string_view what);

class LmdbEnv {
 public:
  struct Options {
    // The address range LMDB maps. Without MDB_WRITEMAP the file grows only as pages are written,
    // so a range far larger than the data costs nothing but address space.
    std::size_t map_size = std::size_t{1} << 30;
    unsigned max_databases = 16;
    unsigned max_readers = 256;
    unsigned flags = 0;  // extra MDB_* open flags (MDB_NOTLS, MDB_NOSYNC, MDB_NOMETASYNC, ...)
  };

  // Opens (creating if needed) the environment in `directory`, which must exist.
  static Result<LmdbEnv> open(const std::string& directory, const Options& options);

  LmdbEnv(LmdbEnv&& other) noexcept : env_(other.env_) { other.env_ = nullptr; }
  LmdbEnv& operator=(LmdbEnv&& other) noexcept;
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;
  ~LmdbEnv();

  MDB_env* raw() const { return env_; }

  // Flushes written pages to disk (fdatasync). `force` syncs even when the environment was opened
  // with MDB_NOSYNC; with MDB_NOMETASYNC this is what makes the last commit's meta page durable.
  Status sync(bool force) const;

  // Page size, map size, last used page and last committed transaction id.
  MDB_envinfo info() const;
  // Pages on LMDB's free list (freed by earlier transactions; reusable once no reader needs them).
  Result<std::uint64_t> free_pages() const;
  // Bytes of the map not in use: never used, or on the free list.
  Result<std::uint64_t> unused_map_bytes() const;
  std::size_t page_size() const;
  // The largest key (and MDB_DUPSORT value) LMDB accepts, in bytes.
  std::size_t max_key_size() const;

 private:
  explicit LmdbEnv(MDB_env* env) : env_(env) {}
  MDB_env* env_ = nullptr;
};

}  // namespace brelay::storage
