#include "storage/lmdb_cursor.h"

#include <utility>

namespace brelay::storage {

Result<LmdbCursor> LmdbCursor::open(const LmdbTxn& txn, MDB_dbi dbi) {
  MDB_cursor* cursor = nullptr;
  if (int rc = mdb_cursor_open(txn.raw(), dbi, &cursor); rc != 0) {
    return lmdb_error(rc, "opening a cursor on the store");
  }
  return LmdbCursor(cursor, txn.read_only());
}

LmdbCursor::LmdbCursor(LmdbCursor&& other) noexcept
    : cursor_(std::exchange(other.cursor_, nullptr)), owned_(other.owned_) {}

LmdbCursor& LmdbCursor::operator=(LmdbCursor&& other) noexcept {
  if (this != &other) {
    close();
    cursor_ = std::exchange(other.cursor_, nullptr);
    owned_ = other.owned_;
  }
  return *this;
}

LmdbCursor::~LmdbCursor() {
  close();
}

void LmdbCursor::close() {
  if (MDB_cursor* cursor = std::exchange(cursor_, nullptr); cursor != nullptr && owned_) {
    mdb_cursor_close(cursor);
  }
}

Status LmdbCursor::renew(const LmdbTxn& txn) {
  if (!owned_) return make_error("renewing a cursor of a write transaction");
  if (int rc = mdb_cursor_renew(txn.raw(), cursor_); rc != 0)
    return lmdb_error(rc, "renewing a store cursor");
  return {};
}

Result<std::optional<LmdbCursor::Entry>> LmdbCursor::seek(ByteView key) {
  return move(MDB_SET_RANGE, key);
}

Result<std::optional<LmdbCursor::Entry>> LmdbCursor::find(ByteView key) {
  return move(MDB_SET_KEY, key);
}

Result<std::optional<LmdbCursor::Entry>> LmdbCursor::move(MDB_cursor_op op, ByteView key) {
  MDB_val k = to_mdb_val(key);
  MDB_val v{};
  const int rc = mdb_cursor_get(cursor_, &k, &v, op);
  if (rc == MDB_NOTFOUND) return std::optional<Entry>();
  if (rc != 0) return lmdb_error(rc, "reading from the store");
  return std::optional<Entry>(Entry{to_view(k), to_view(v)});
}

Status LmdbCursor::put(ByteView key, ByteView value, unsigned flags) {
  MDB_val k = to_mdb_val(key);
  MDB_val v = to_mdb_val(value);
  if (int rc = mdb_cursor_put(cursor_, &k, &v, flags); rc != 0) return lmdb_error(rc, "writing to the store");
  return {};
}

Result<std::span<std::uint8_t>> LmdbCursor::reserve(ByteView key, std::size_t size, unsigned flags) {
  MDB_val k = to_mdb_val(key);
  MDB_val v{size, nullptr};
  if (int rc = mdb_cursor_put(cursor_, &k, &v, flags | MDB_RESERVE); rc != 0) {
    return lmdb_error(rc, "writing to the store");
  }
  return std::span<std::uint8_t>(static_cast<std::uint8_t*>(v.mv_data), size);
}

Status LmdbCursor::del() {
  if (int rc = mdb_cursor_del(cursor_, 0); rc != 0) return lmdb_error(rc, "deleting from the store");
  return {};
}

}  // namespace brelay::storage
