#include "storage/lmdb_txn.h"

#include <utility>

namespace brelay::storage {

Result<LmdbTxn> LmdbTxn::begin_read(const LmdbEnv& env) {
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn); rc != 0) {
    return lmdb_error(rc, "beginning a read transaction on the store");
  }
  return LmdbTxn(txn, true);
}

Result<LmdbTxn> LmdbTxn::begin_write(const LmdbEnv& env) {
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env.raw(), nullptr, 0, &txn); rc != 0) {
    return lmdb_error(rc, "beginning a write transaction on the store");
  }
  return LmdbTxn(txn, false);
}

LmdbTxn::LmdbTxn(LmdbTxn&& other) noexcept
    : txn_(std::exchange(other.txn_, nullptr)), read_only_(other.read_only_), reset_(other.reset_) {}

LmdbTxn& LmdbTxn::operator=(LmdbTxn&& other) noexcept {
  if (this != &other) {
    abort();
    txn_ = std::exchange(other.txn_, nullptr);
    read_only_ = other.read_only_;
    reset_ = other.reset_;
  }
  return *this;
}

LmdbTxn::~LmdbTxn() {
  abort();
}

Status LmdbTxn::commit() {
  MDB_txn* txn = std::exchange(txn_, nullptr);
  if (txn == nullptr) return make_error("committing a transaction that already ended");
  if (reset_) {
    mdb_txn_abort(txn);
    return make_error("committing a read transaction that was reset");
  }
  if (int rc = mdb_txn_commit(txn); rc != 0) return lmdb_error(rc, "committing to the store");
  return {};
}

void LmdbTxn::abort() {
  if (MDB_txn* txn = std::exchange(txn_, nullptr); txn != nullptr) mdb_txn_abort(txn);
}

void LmdbTxn::reset() {
  if (txn_ != nullptr && read_only_ && !reset_) {
    mdb_txn_reset(txn_);
    reset_ = true;
  }
}

Status LmdbTxn::renew() {
  if (txn_ == nullptr || !read_only_)
    return make_error("renewing a transaction that is not a read transaction");
  if (!reset_) return {};
  if (int rc = mdb_txn_renew(txn_); rc != 0)
    return lmdb_error(rc, "renewing a read transaction on the store");
  reset_ = false;
  return {};
}

Result<MDB_dbi> LmdbTxn::open_database(const char* name, unsigned flags) {
  MDB_dbi dbi = 0;
  if (int rc = mdb_dbi_open(txn_, name, flags, &dbi); rc != 0) {
    return lmdb_error(rc, fmt::format("opening the store's '{}' database", name));
  }
  return dbi;
}

Result<std::optional<ByteView>> LmdbTxn::get(MDB_dbi dbi, ByteView key) const {
  MDB_val k = to_mdb_val(key);
  MDB_val v{};
  const int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<ByteView>();
  if (rc != 0) return lmdb_error(rc, "reading from the store");
  return std::optional<ByteView>(to_view(v));
}

Status LmdbTxn::put(MDB_dbi dbi, ByteView key, ByteView value, unsigned flags) {
  MDB_val k = to_mdb_val(key);
  MDB_val v = to_mdb_val(value);
  if (int rc = mdb_put(txn_, dbi, &k, &v, flags); rc != 0) return lmdb_error(rc, "writing to the store");
  return {};
}

Result<std::span<std::uint8_t>> LmdbTxn::reserve(MDB_dbi dbi, ByteView key, std::size_t size,
                                                 unsigned flags) {
  MDB_val k = to_mdb_val(key);
  MDB_val v{size, nullptr};
  if (int rc = mdb_put(txn_, dbi, &k, &v, flags | MDB_RESERVE); rc != 0) {
    return lmdb_error(rc, "writing to the store");
  }
  return std::span<std::uint8_t>(static_cast<std::uint8_t*>(v.mv_data), size);
}

Result<bool> LmdbTxn::del(MDB_dbi dbi, ByteView key) {
  MDB_val k = to_mdb_val(key);
  const int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return lmdb_error(rc, "deleting from the store");
  return true;
}

}  // namespace brelay::storage
