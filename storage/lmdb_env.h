// LmdbEnv: a move-only owner of one MDB_env opened on a data directory. Errors are values that name
// the directory and say what to do; the destructor closes the environment.
#pragma once

#include <cstddef>
#include <string>

#include <lmdb.h>

#include "common/result.h"

namespace brelay::storage {

// Describes an LMDB return code with mdb_strerror and, where it helps, what to do about it.
Error lmdb_error(int rc, std::string_view what);

class LmdbEnv {
 public:
  struct Options {
    std::size_t map_size = std::size_t{1} << 30;
    unsigned max_databases = 8;
    unsigned max_readers = 256;
    unsigned flags = 0;  // extra MDB_* open flags (MDB_NOSYNC for tests, ...)
  };

  // Opens (creating if needed) the environment in `directory`, which must exist.
  static Result<LmdbEnv> open(const std::string& directory, const Options& options);

  LmdbEnv(LmdbEnv&& other) noexcept : env_(other.env_) { other.env_ = nullptr; }
  LmdbEnv& operator=(LmdbEnv&& other) noexcept;
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;
  ~LmdbEnv();

  MDB_env* raw() const { return env_; }

 private:
  explicit LmdbEnv(MDB_env* env) : env_(env) {}
  MDB_env* env_ = nullptr;
};

}  // namespace brelay::storage
