#include "storage/binlog_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "storage/lmdb_txn.h"
#include "storage/retention.h"
#include "storage/store_format.h"
#include "storage/store_reader.h"
#include "storage/store_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/store_test_stream.h"

namespace brelay::storage {
namespace {

using testing::ProgressLog;
using testing::TestStream;

testing::TempDir temp_dir() {
  auto dir = testing::TempDir::create("binlog-store");
  EXPECT_TRUE(dir);
  return std::move(dir).value();
}

// Writes directly into the store's environment, as a different program (or a future version) would.
void poke_meta(const std::string& data_dir, std::string_view key, ByteView value, const char* db = "meta") {
  LmdbEnv::Options options;
  options.map_size = std::size_t{64} << 20;
  auto env = LmdbEnv::open(data_dir, options);
  ASSERT_TRUE(env) << env.error().message();
  auto txn = LmdbTxn::begin_write(*env);
  ASSERT_TRUE(txn);
  auto dbi = txn->open_database(db, MDB_CREATE);
  ASSERT_TRUE(dbi);
  ASSERT_TRUE(txn->put(*dbi, as_bytes(key), value));
  ASSERT_TRUE(txn->commit());
}

TEST(BinlogStore, ANewStoreIsEmptyAndHasTheCurrentFormatVersion) {
  auto dir = temp_dir();
  const std::string data = dir.file("nested/data");
  {
    auto store = BinlogStore::open(data);
    ASSERT_TRUE(store) << store.error().message();
    EXPECT_FALSE((*store)->durable_end());
    auto files = (*store)->list_files();
    ASSERT_TRUE(files);
    EXPECT_TRUE(files->empty());
    auto stats = (*store)->stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->stored_bytes, 0u);
    EXPECT_GT(stats->map_bytes, 0u);
    EXPECT_GT(stats->filesystem_free_bytes, 0u);
    auto purged = (*store)->purged_gtid_set();
    ASSERT_TRUE(purged);
    EXPECT_TRUE(purged->empty());
  }
  LmdbEnv::Options options;
  auto env = LmdbEnv::open(data, options);
  ASSERT_TRUE(env);
  auto txn = LmdbTxn::begin_read(*env);
  ASSERT_TRUE(txn);
  auto meta = txn->open_database("meta", 0);
  ASSERT_TRUE(meta) << meta.error().message();
  auto version = txn->get(*meta, as_bytes("format_version"));
  ASSERT_TRUE(version);
  ASSERT_TRUE(*version);
  EXPECT_EQ(decode_u32_value(**version, "version").value_or(0), kStoreFormatVersion);
}

TEST(BinlogStore, AnUnknownFormatVersionIsAClearError) {
  auto dir = temp_dir();
  const std::string data = dir.file("data");
  ASSERT_TRUE(BinlogStore::open(data));
  poke_meta(data, "format_version", encode_u32_value(kStoreFormatVersion + 1));
  auto store = BinlogStore::open(data);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find(fmt::format("format version {}", kStoreFormatVersion + 1)),
            std::string::npos)
      << store.error().message();
  EXPECT_NE(store.error().message().find(data), std::string::npos);
}

TEST(BinlogStore, AnotherProgramsLmdbEnvironmentIsRefused) {
  auto dir = temp_dir();
  const std::string data = dir.file("data");
  std::filesystem::create_directories(data);
  poke_meta(data, "user", as_bytes("alice"), "accounts");
  auto store = BinlogStore::open(data);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("not a binlog-relay store"), std::string::npos)
      << store.error().message();
}

TEST(BinlogStore, ReopeningTrimsAnUnfinishedTransactionAndAFileBegunAfterIt) {
  auto dir = temp_dir();
  const std::string data = dir.file("data");
  TestStream stream;
  {
    auto store = BinlogStore::open(data);
    ASSERT_TRUE(store);
    ProgressLog log;
    auto writer = StoreWriter::start(**store, {}, log.callback());
    ASSERT_TRUE(writer);
    WriteBatch batch;
    stream.begin_file(batch);
    for (int i = 0; i < 5; ++i)
      stream.transaction(batch, 3, 300);
    stream.unfinished_events(batch, 4, 1000);
    ASSERT_TRUE((*writer)->submit(std::move(batch)));
    // stop() commits everything queued, the unfinished transaction too.
    ASSERT_TRUE((*writer)->stop());
  }
  {
    auto store = BinlogStore::open(data);
    ASSERT_TRUE(store) << store.error().message();
    const auto end = (*store)->durable_end();
    ASSERT_TRUE(end);
    EXPECT_EQ(end->position, stream.boundary_position());
    auto events = testing::read_everything(**store);
    ASSERT_TRUE(events);
    EXPECT_EQ(testing::compare_events(*events, stream.complete_events()), "");

    // The writer continues right at the boundary: the trimmed events are really gone.
    ProgressLog log;
    auto writer = StoreWriter::start(**store, {}, log.callback());
    ASSERT_TRUE(writer);
    WriteBatch batch;
    stream.abandon(batch);
    stream.transaction(batch, 2, 700);
    stream.end_file(batch);
    stream.begin_file(batch);
    stream.unfinished_events(batch, 2, 100);
    ASSERT_TRUE((*writer)->submit(std::move(batch)));
    ASSERT_TRUE((*writer)->stop());
  }
  auto store = BinlogStore::open(data);
  ASSERT_TRUE(store);
  const auto end = (*store)->durable_end();
  ASSERT_TRUE(end);
  EXPECT_EQ(end->file, "source-bin.000002");
  auto events = testing::read_everything(**store);
  ASSERT_TRUE(events);
  EXPECT_EQ(testing::compare_events(*events, stream.complete_events()), "");
  auto files = (*store)->list_files();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[1].end_position, end->position);
}

std::uint64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

TEST(BinlogStore, EventFilesHoldTheSourcesBytesAtTheSourcesPositionsAndRecoveryMakesThemAgreeWithTheIndex) {
  auto dir = temp_dir();
  const std::string data = dir.file("data");
  const std::string events_dir = data + "/events";
  TestStream stream;
  {
    auto store = BinlogStore::open(data);
    ASSERT_TRUE(store);
    auto writer = StoreWriter::start(**store, {});
    ASSERT_TRUE(writer);
    WriteBatch batch;
    stream.begin_file(batch);
    for (int i = 0; i < 4; ++i)
      stream.transaction(batch, 2, 500);
    stream.unfinished_events(batch, 3, 700);  // committed by stop(), past the durable end
    ASSERT_TRUE((*writer)->submit(std::move(batch)));
    ASSERT_TRUE((*writer)->stop());
  }
  const std::string first = events_dir + "/0000000001.events";
  // The event file holds every event at its position, the unfinished ones too until recovery.
  EXPECT_EQ(file_size(first), stream.next_position());
  {
    std::ifstream in(first, std::ios::binary);
    const Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& event : stream.complete_events()) {
      ASSERT_LE(event.position + event.bytes.size(), bytes.size());
      EXPECT_TRUE(std::equal(event.bytes.begin(), event.bytes.end(),
                             bytes.begin() + static_cast<std::ptrdiff_t>(event.position)))
          << "event at " << event.position;
    }
  }
  // A crash between creating an event file and committing its record leaves an orphan.
  std::ofstream(events_dir + "/0000000007.events") << "left by a crash";
  {
    auto store = BinlogStore::open(data);
    ASSERT_TRUE(store) << store.error().message();
    EXPECT_EQ(file_size(first), stream.boundary_position()) << "the unfinished transaction is cut";
    EXPECT_FALSE(std::filesystem::exists(events_dir + "/0000000007.events"));
    auto events = testing::read_everything(**store);
    ASSERT_TRUE(events) << events.error().message();
    EXPECT_EQ(testing::compare_events(*events, stream.complete_events()), "");
  }
  // An event file shorter than what the index names is damage, said as such; nothing is changed.
  std::filesystem::resize_file(first, stream.boundary_position() - 1);
  auto damaged = BinlogStore::open(data);
  ASSERT_FALSE(damaged);
  EXPECT_NE(damaged.error().message().find("damaged"), std::string::npos) << damaged.error().message();
  EXPECT_NE(damaged.error().message().find("0000000001.events"), std::string::npos)
      << damaged.error().message();
  EXPECT_EQ(file_size(first), stream.boundary_position() - 1);
}

TEST(BinlogStore, AFileBegunWithoutACompleteTransactionIsRemovedOnReopen) {
  auto dir = temp_dir();
  const std::string data = dir.file("data");
  TestStream stream;
  {
    auto store = BinlogStore::open(data);
    ASSERT_TRUE(store);
    auto writer = StoreWriter::start(**store, {});
    ASSERT_TRUE(writer);
    WriteBatch batch;
    stream.begin_file(batch);
    stream.transaction(batch, 2, 100);
    stream.end_file(batch);
    // The next file begins, but not even its first event arrives.
    batch.begin_file(FileStart{"source-bin.000002", 4, {}, {}});
    ASSERT_TRUE((*writer)->submit(std::move(batch)));
    ASSERT_TRUE((*writer)->stop());
  }
  auto store = BinlogStore::open(data);
  ASSERT_TRUE(store);
  auto files = (*store)->list_files();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 1u);
  EXPECT_TRUE((*files)[0].closed);
  auto writer = StoreWriter::start(**store, {});
  ASSERT_TRUE(writer);
  WriteBatch again;
  again.begin_file(FileStart{"source-bin.000002", 4, {}, {}});
  EXPECT_TRUE((*writer)->submit(std::move(again))) << "the trimmed file's name is free again";
}

TEST(BinlogStore, ListsFilesWithTheirFactsAndKeepsRelayMetadata) {
  auto dir = temp_dir();
  std::int64_t clock = 1'800'000'000;
  StoreOptions options;
  options.clock = [&clock] { return clock; };
  auto store = BinlogStore::open(dir.file("data"), options);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->put_meta("relay.server_uuid", as_bytes("b1b2")));
  ProgressLog log;
  auto writer = StoreWriter::start(**store, {}, log.callback());
  ASSERT_TRUE(writer);
  TestStream stream;
  WriteBatch batch;
  stream.begin_file(batch, 1'700'000'100);
  stream.transaction(batch, 2, 100, 1'700'000'150);
  stream.transaction(batch, 2, 100, 1'700'000'200);
  stream.end_file(batch);
  stream.begin_file(batch, 1'700'000'300);
  stream.transaction(batch, 2, 100, 1'700'000'400);
  ASSERT_TRUE((*writer)->submit(std::move(batch)));
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));

  auto files = (*store)->list_files();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 2u);
  const FileInfo& first = (*files)[0];
  EXPECT_EQ(first.name, "source-bin.000001");
  EXPECT_EQ(first.first_position, 4u);
  EXPECT_EQ(first.first_timestamp, 1'700'000'100);
  EXPECT_EQ(first.last_timestamp, 1'700'000'000);  // the ROTATE event's timestamp
  EXPECT_EQ(first.created_time, clock);
  EXPECT_EQ(first.last_write_time, clock);
  EXPECT_TRUE(first.closed);
  EXPECT_EQ(first.previous_gtids, TestStream::previous_gtids_for(1));
  const FileInfo& second = (*files)[1];
  EXPECT_FALSE(second.closed);
  EXPECT_EQ(second.end_position, stream.next_position());
  EXPECT_EQ(second.previous_gtids, TestStream::previous_gtids_for(3));

  auto found = (*store)->find_file("source-bin.000002");
  ASSERT_TRUE(found);
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->seq, second.seq);
  auto missing = (*store)->find_file("source-bin.000003");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);

  auto stats = (*store)->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->file_count, 2u);
  EXPECT_EQ(stats->stored_bytes, first.stored_bytes() + second.stored_bytes());
  EXPECT_EQ(stats->oldest_timestamp, 1'700'000'100);
  ASSERT_TRUE(stats->durable_end);
  EXPECT_EQ(stats->durable_end->file, "source-bin.000002");

  auto uuid = (*store)->get_meta("relay.server_uuid");
  ASSERT_TRUE(uuid);
  ASSERT_TRUE(*uuid);
  EXPECT_EQ(as_text(**uuid), "b1b2");
  auto absent = (*store)->get_meta("relay.nothing");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(*absent);
  EXPECT_FALSE((*store)->put_meta("", as_bytes("x")));
}

}  // namespace
}  // namespace brelay::storage

namespace brelay::storage {
namespace {

TEST(BinlogStore, OnlyOneWritableOpenAtATime) {
  auto dir = temp_dir();
  auto first = BinlogStore::open(dir.file("data"));
  ASSERT_TRUE(first) << first.error().message();
  auto second = BinlogStore::open(dir.file("data"));
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("already open for writing"), std::string::npos)
      << second.error().message();
  first->reset();
  EXPECT_TRUE(BinlogStore::open(dir.file("data"))) << "the lock goes with the store";
}

TEST(BinlogStore, AReadOnlyOpenReadsButNeverWritesOrRecovers) {
  auto dir = temp_dir();
  const std::string data = dir.file("data");
  StoreOptions read_only;
  read_only.read_only = true;
  auto missing = BinlogStore::open(dir.file("nothing-here"), read_only);
  ASSERT_FALSE(missing);

  TestStream stream;
  {
    auto store = BinlogStore::open(data);
    ASSERT_TRUE(store);
    auto writer = StoreWriter::start(**store, {});
    ASSERT_TRUE(writer);
    WriteBatch batch;
    stream.begin_file(batch);
    stream.transaction(batch, 3, 200);
    stream.unfinished_events(batch, 2, 100);
    ASSERT_TRUE((*writer)->submit(std::move(batch)));
    ASSERT_TRUE((*writer)->stop());
  }
  {
    auto store = BinlogStore::open(data, read_only);
    ASSERT_TRUE(store) << store.error().message();
    EXPECT_TRUE((*store)->read_only());
    const auto end = (*store)->durable_end();
    ASSERT_TRUE(end);
    EXPECT_EQ(end->position, stream.boundary_position());
    auto events = testing::read_everything(**store);
    ASSERT_TRUE(events);
    EXPECT_EQ(testing::compare_events(*events, stream.complete_events()), "");
    EXPECT_FALSE(StoreWriter::start(**store, {}));
    EXPECT_FALSE((*store)->put_meta("k", as_bytes("v")));
    EXPECT_FALSE(Retention::purge(**store, PurgeRequest::to(stream.current_file())));
  }
  // The unfinished tail was left for the next writable open to trim.
  auto store = BinlogStore::open(data);
  ASSERT_TRUE(store);
  auto writer = StoreWriter::start(**store, {});
  ASSERT_TRUE(writer);
  WriteBatch batch;
  stream.abandon(batch);
  stream.transaction(batch, 1, 10);
  EXPECT_TRUE((*writer)->submit(std::move(batch)));
}

}  // namespace
}  // namespace brelay::storage
