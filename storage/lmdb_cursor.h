// LmdbCursor: a move-only MDB_cursor over one database. The lifetime rule follows LMDB's: a cursor
// of a read transaction is owned (the destructor closes it) and may outlive its transaction and be
// renewed on another; a cursor of a write transaction is freed by LMDB when the transaction ends,
// so the wrapper never closes it and it must not be used after its transaction commits or aborts.
//
// Positioning calls return the entry they land on, or std::nullopt when there is none ("not found"
// is a value). Views point into the map and follow LmdbTxn's validity rules.
#pragma once

#include <optional>
#include <span>

#include <lmdb.h>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/lmdb_txn.h"

namespace brelay::storage {

class LmdbCursor {
 public:
  struct Entry {
    ByteView key;
    ByteView value;
  };

  static Result<LmdbCursor> open(const LmdbTxn& txn, MDB_dbi dbi);

  LmdbCursor(LmdbCursor&& other) noexcept;
  LmdbCursor& operator=(LmdbCursor&& other) noexcept;
  LmdbCursor(const LmdbCursor&) = delete;
  LmdbCursor& operator=(const LmdbCursor&) = delete;
  ~LmdbCursor();

  // Read cursors only: binds the cursor to another (or renewed) read transaction.
  Status renew(const LmdbTxn& txn);

  Result<std::optional<Entry>> first() { return move(MDB_FIRST); }
  Result<std::optional<Entry>> last() { return move(MDB_LAST); }
  Result<std::optional<Entry>> next() { return move(MDB_NEXT); }
  Result<std::optional<Entry>> prev() { return move(MDB_PREV); }
  // The first entry whose key is >= `key`.
  Result<std::optional<Entry>> seek(ByteView key);
  // The entry whose key is exactly `key`.
  Result<std::optional<Entry>> find(ByteView key);

  Status put(ByteView key, ByteView value, unsigned flags = 0);
  // As LmdbTxn::reserve, through this cursor (MDB_APPEND makes appends in key order cheap).
  Result<std::span<std::uint8_t>> reserve(ByteView key, std::size_t size, unsigned flags = 0);
  // Deletes the entry under the cursor.
  Status del();

 private:
  LmdbCursor(MDB_cursor* cursor, bool owned) : cursor_(cursor), owned_(owned) {}
  Result<std::optional<Entry>> move(MDB_cursor_op op, ByteView key = {});
  void close();

  MDB_cursor* cursor_ = nullptr;
  bool owned_ = false;  // true for read-transaction cursors, which LMDB leaves to us to close
};

}  // namespace brelay::storage
