// LmdbTxn: a move-only owner of one MDB_txn. The lifetime rule lives here: the destructor aborts a
// transaction that was neither committed nor aborted; commit() and abort() end it whatever the
// outcome (LMDB frees a transaction whose commit fails), so a handle is never used twice. A read
// transaction can be reset (releasing its snapshot so the writer may reuse old pages) and renewed
// later without giving up its reader slot: that is how long-lived readers keep their transactions
// short.
//
// Values returned by get() point into the memory map and are valid until the transaction ends,
// is reset, or (for a write transaction) writes to the same database; copy what must outlive it.
//
// Thread rules: a write transaction is used only by the thread that began it. The environment of a
// read transaction is opened with MDB_NOTLS by BinlogStore, so a read transaction belongs to its
// owner object, not to a thread, and one thread may hold many.
//
// "Not found" is a value (std::nullopt / false), never an error; MDB_MAP_FULL and I/O errors are
// Errors whose code is the LMDB return code or errno.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include <lmdb.h>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/lmdb_env.h"

namespace brelay::storage {

// Bridges between byte views and MDB_val. LMDB never writes through a key or value it is given.
inline MDB_val to_mdb_val(ByteView bytes) {
  return MDB_val{bytes.size(), const_cast<std::uint8_t*>(bytes.data())};
}
inline ByteView to_view(const MDB_val& value) {
  return {static_cast<const std::uint8_t*>(value.mv_data), value.mv_size};
}

class LmdbTxn {
 public:
  static Result<LmdbTxn> begin_read(const LmdbEnv& env);
  static Result<LmdbTxn> begin_write(const LmdbEnv& env);

  LmdbTxn(LmdbTxn&& other) noexcept;
  LmdbTxn& operator=(LmdbTxn&& other) noexcept;
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;
  ~LmdbTxn();

  MDB_txn* raw() const { return txn_; }
  bool read_only() const { return read_only_; }
  // True while the transaction can be used: begun or renewed, not reset, committed or aborted.
  bool active() const { return txn_ != nullptr && !reset_; }
  // LMDB's id of this transaction (for a write transaction: the id its commit will publish).
  std::uint64_t id() const { return mdb_txn_id(txn_); }

  // Commits and ends the transaction. On error nothing of it was committed.
  Status commit();
  // Ends the transaction without committing; a no-op once ended.
  void abort();
  // Read transactions only: releases the snapshot but keeps the handle and its reader slot.
  void reset();
  // Read transactions only: takes a fresh snapshot after reset().
  Status renew();

  // Opens (with MDB_CREATE in `flags`: creates) a named database; the handle stays valid for the
  // environment's lifetime once this transaction commits.
  Result<MDB_dbi> open_database(const char* name, unsigned flags);

  Result<std::optional<ByteView>> get(MDB_dbi dbi, ByteView key) const;
  Status put(MDB_dbi dbi, ByteView key, ByteView value, unsigned flags = 0);
  // Inserts `size` uninitialised bytes under `key` (MDB_RESERVE) and returns them for the caller to
  // fill before the next write to this transaction.
  Result<std::span<std::uint8_t>> reserve(MDB_dbi dbi, ByteView key, std::size_t size, unsigned flags = 0);
  // Deletes `key`; returns false when it was absent.
  Result<bool> del(MDB_dbi dbi, ByteView key);

 private:
  LmdbTxn(MDB_txn* txn, bool read_only) : txn_(txn), read_only_(read_only) {}

  MDB_txn* txn_ = nullptr;
  bool read_only_ = false;
  bool reset_ = false;
};

}  // namespace brelay::storage
