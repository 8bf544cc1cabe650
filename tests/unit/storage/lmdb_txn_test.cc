#include "storage/lmdb_txn.h"

#include <gtest/gtest.h>

#include <vector>

#include "storage/lmdb_cursor.h"
#include "storage/store_format.h"
#include "tests/support/temp_dir.h"

namespace brelay::storage {
namespace {

struct Fixture {
  testing::TempDir dir;
  LmdbEnv env;
  MDB_dbi dbi;
};

Fixture open_fixture(std::size_t map_size = std::size_t{64} << 20) {
  auto dir = testing::TempDir::create("lmdb-txn");
  EXPECT_TRUE(dir);
  LmdbEnv::Options options;
  options.map_size = map_size;
  options.flags = MDB_NOTLS | MDB_NOSYNC;
  auto env = LmdbEnv::open(dir->path(), options);
  EXPECT_TRUE(env) << env.error().message();
  auto txn = LmdbTxn::begin_write(*env);
  EXPECT_TRUE(txn);
  auto dbi = txn->open_database("test", MDB_CREATE);
  EXPECT_TRUE(dbi);
  EXPECT_TRUE(txn->commit());
  return Fixture{std::move(dir).value(), std::move(env).value(), *dbi};
}

std::optional<Bytes> lookup(const Fixture& f, std::string_view key) {
  auto txn = LmdbTxn::begin_read(f.env);
  EXPECT_TRUE(txn);
  auto value = txn->get(f.dbi, as_bytes(key));
  EXPECT_TRUE(value);
  if (!*value) return std::nullopt;
  return Bytes((*value)->begin(), (*value)->end());
}

TEST(LmdbTxn, DestructorAbortsAnUncommittedWrite) {
  Fixture f = open_fixture();
  {
    auto txn = LmdbTxn::begin_write(f.env);
    ASSERT_TRUE(txn);
    ASSERT_TRUE(txn->put(f.dbi, as_bytes("k"), as_bytes("v")));
  }
  EXPECT_FALSE(lookup(f, "k"));
  auto txn = LmdbTxn::begin_write(f.env);
  ASSERT_TRUE(txn) << "the aborted transaction still held the write lock";
  ASSERT_TRUE(txn->put(f.dbi, as_bytes("k"), as_bytes("v")));
  ASSERT_TRUE(txn->commit());
  EXPECT_EQ(lookup(f, "k"), to_bytes("v"));
  EXPECT_FALSE(txn->active());
  EXPECT_FALSE(txn->commit()) << "a second commit must be an error, not a double free";
}

TEST(LmdbTxn, NotFoundIsAValueNotAnError) {
  Fixture f = open_fixture();
  auto txn = LmdbTxn::begin_write(f.env);
  ASSERT_TRUE(txn);
  auto value = txn->get(f.dbi, as_bytes("absent"));
  ASSERT_TRUE(value);
  EXPECT_FALSE(*value);
  auto deleted = txn->del(f.dbi, as_bytes("absent"));
  ASSERT_TRUE(deleted);
  EXPECT_FALSE(*deleted);
  auto cursor = LmdbCursor::open(*txn, f.dbi);
  ASSERT_TRUE(cursor);
  auto first = cursor->first();
  ASSERT_TRUE(first);
  EXPECT_FALSE(*first);
}

TEST(LmdbTxn, MapFullIsARecoverableErrorValue) {
  Fixture f = open_fixture(std::size_t{1} << 20);
  const Bytes big(64 * 1024, 0x5a);
  Status failed;
  int written = 0;
  {
    auto txn = LmdbTxn::begin_write(f.env);
    ASSERT_TRUE(txn);
    for (int i = 0; i < 64 && failed; ++i) {
      failed = txn->put(f.dbi, as_bytes(fmt::format("key{:03}", i)), big);
      if (failed) ++written;
    }
  }
  ASSERT_FALSE(failed) << "1 MiB map took 4 MiB";
  EXPECT_EQ(failed.error().code(), MDB_MAP_FULL);
  EXPECT_NE(failed.error().message().find("purge"), std::string::npos) << failed.error().message();
  EXPECT_GT(written, 0);
  // The environment is still usable: a smaller transaction commits.
  auto txn = LmdbTxn::begin_write(f.env);
  ASSERT_TRUE(txn);
  ASSERT_TRUE(txn->put(f.dbi, as_bytes("small"), as_bytes("ok")));
  ASSERT_TRUE(txn->commit());
  EXPECT_EQ(lookup(f, "small"), to_bytes("ok"));
}

TEST(LmdbTxn, ResetReadTransactionSeesNewCommitsAfterRenew) {
  Fixture f = open_fixture();
  auto reader = LmdbTxn::begin_read(f.env);
  ASSERT_TRUE(reader);
  auto cursor = LmdbCursor::open(*reader, f.dbi);
  ASSERT_TRUE(cursor);
  reader->reset();
  EXPECT_FALSE(reader->active());
  {
    auto writer = LmdbTxn::begin_write(f.env);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->put(f.dbi, as_bytes("a"), as_bytes("1")));
    ASSERT_TRUE(writer->commit());
  }
  ASSERT_TRUE(reader->renew());
  ASSERT_TRUE(cursor->renew(*reader));
  auto first = cursor->first();
  ASSERT_TRUE(first);
  ASSERT_TRUE(*first);
  EXPECT_EQ(as_text((*first)->value), "1");
  // Two read transactions on one thread (MDB_NOTLS).
  auto second = LmdbTxn::begin_read(f.env);
  ASSERT_TRUE(second) << second.error().message();
}

TEST(LmdbCursor, DeletingARangeAcrossManyPagesKeepsEverythingElse) {
  Fixture f = open_fixture();
  constexpr std::uint64_t kKeys = 5000;
  {
    auto txn = LmdbTxn::begin_write(f.env);
    ASSERT_TRUE(txn);
    auto cursor = LmdbCursor::open(*txn, f.dbi);
    ASSERT_TRUE(cursor);
    const Bytes value(100, 1);
    for (std::uint64_t i = 0; i < kKeys; ++i)
      ASSERT_TRUE(cursor->put(EventKey{1, i}.encode(), value, MDB_APPEND));
    ASSERT_TRUE(txn->commit());
  }
  {
    auto txn = LmdbTxn::begin_write(f.env);
    ASSERT_TRUE(txn);
    auto cursor = LmdbCursor::open(*txn, f.dbi);
    ASSERT_TRUE(cursor);
    auto entry = cursor->seek(EventKey{1, 1000}.encode());
    ASSERT_TRUE(entry);
    while (*entry) {
      auto key = EventKey::decode((*entry)->key);
      ASSERT_TRUE(key);
      if (key->position >= 4000) break;
      ASSERT_TRUE(cursor->del());
      entry = cursor->next();
      ASSERT_TRUE(entry);
    }
    ASSERT_TRUE(txn->commit());
  }
  auto txn = LmdbTxn::begin_read(f.env);
  ASSERT_TRUE(txn);
  auto cursor = LmdbCursor::open(*txn, f.dbi);
  ASSERT_TRUE(cursor);
  std::vector<std::uint64_t> left;
  for (auto entry = cursor->first(); entry && *entry; entry = cursor->next())
    left.push_back(EventKey::decode((*entry)->key)->position);
  ASSERT_EQ(left.size(), kKeys - 3000);
  for (std::size_t i = 0; i < left.size(); ++i)
    EXPECT_EQ(left[i], i < 1000 ? i : i + 3000);
}

TEST(LmdbCursor, WriteCursorMayOutliveItsCommittedTransaction) {
  // LMDB frees a write transaction's cursors at commit; the wrapper must not close them again
  // (the sanitizer build turns a double free here into a failure).
  Fixture f = open_fixture();
  auto txn = LmdbTxn::begin_write(f.env);
  ASSERT_TRUE(txn);
  auto cursor = LmdbCursor::open(*txn, f.dbi);
  ASSERT_TRUE(cursor);
  ASSERT_TRUE(cursor->put(as_bytes("k"), as_bytes("v")));
  ASSERT_TRUE(txn->commit());
  EXPECT_EQ(lookup(f, "k"), to_bytes("v"));
}

TEST(LmdbCursor, AppendOutOfOrderIsAnErrorValue) {
  Fixture f = open_fixture();
  auto txn = LmdbTxn::begin_write(f.env);
  ASSERT_TRUE(txn);
  auto cursor = LmdbCursor::open(*txn, f.dbi);
  ASSERT_TRUE(cursor);
  ASSERT_TRUE(cursor->put(EventKey{1, 10}.encode(), as_bytes("x"), MDB_APPEND));
  auto out_of_order = cursor->put(EventKey{1, 5}.encode(), as_bytes("y"), MDB_APPEND);
  ASSERT_FALSE(out_of_order);
  EXPECT_EQ(out_of_order.error().code(), MDB_KEYEXIST);
}

}  // namespace
}  // namespace brelay::storage
