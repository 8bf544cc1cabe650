// The lone commit (issue 17): one fdatasync of the event file and its commit record makes a lone
// round durable; recovery indexes the round again when its LMDB commit was lost. A lost LMDB
// commit is simulated by putting back a copy of data.mdb taken before the round (what a kill
// between the event file's sync and the index commit, or a power loss before its meta page was
// synced, leaves behind).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "storage/binlog_store.h"
#include "storage/store_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/store_test_stream.h"

namespace brelay::storage {
namespace {

using testing::ProgressLog;
using testing::TestStream;

struct LoneStore {
  testing::TempDir dir;
  std::string data;
  std::string saved_index;
  std::string first_event_file;
};

LoneStore make_store() {
  auto dir = testing::TempDir::create("lone-commit");
  EXPECT_TRUE(dir);
  LoneStore s{std::move(dir).value(), "", "", ""};
  s.data = s.dir.file("data");
  s.saved_index = s.dir.file("saved-data.mdb");
  s.first_event_file = s.data + "/events/0000000001.events";
  return s;
}

std::uint64_t file_size(const std::string& path) {
  return static_cast<std::uint64_t>(std::filesystem::file_size(path));
}

// The writer is idle and its last round was a group commit (synced before it was published).
void save_index(const LoneStore& s) {
  std::filesystem::copy_file(s.data + "/data.mdb", s.saved_index,
                             std::filesystem::copy_options::overwrite_existing);
}

void restore_index(const LoneStore& s) {
  std::filesystem::copy_file(s.saved_index, s.data + "/data.mdb",
                             std::filesystem::copy_options::overwrite_existing);
}

// One lone round of `transactions` transactions; returns what the writer reported durable.
StoreWriter::Progress lone_round(StoreWriter& writer, ProgressLog& log, BinlogStore& store,
                                 TestStream& stream, int transactions, bool with_meta = false) {
  WriteBatch batch;
  for (int i = 0; i < transactions; ++i)
    stream.transaction(batch, 3, 150);
  if (with_meta) batch.put_meta("lone-meta", as_bytes("kept"));
  EXPECT_TRUE(writer.submit(std::move(batch)));
  StoreWriter::Progress reported;
  EXPECT_TRUE(log.wait_until([&](const StoreWriter::Progress& progress) {
    if (!progress.synced_end || progress.synced_end->position != stream.next_position()) return false;
    reported = progress;
    return true;
  }));
  // Readers see it after its index commit.
  EXPECT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  EXPECT_EQ(store.durable_end()->position, stream.next_position());
  return reported;
}

TEST(LoneCommit, ReportsTheEndItsIndexSetsAndLeavesOnlyTheIndexedBytesAfterReopen) {
  LoneStore s = make_store();
  TestStream stream;
  {
    auto store = BinlogStore::open(s.data);
    ASSERT_TRUE(store) << store.error().message();
    ProgressLog log;
    auto writer = StoreWriter::start(**store, {}, log.callback());
    ASSERT_TRUE(writer);
    WriteBatch first;
    stream.begin_file(first);
    stream.transaction(first, 2, 100);
    ASSERT_TRUE((*writer)->submit(std::move(first)));
    ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
    for (int round = 0; round < 5; ++round) {
      const StoreWriter::Progress reported = lone_round(**writer, log, **store, stream, 1 + round % 2);
      ASSERT_TRUE(reported.synced_end);
      // What was acknowledged is exactly what the index says, GTIDs and executed set included.
      EXPECT_EQ(*reported.synced_end, *(*store)->durable_end());
      EXPECT_EQ(reported.synced_end->last_gtid, testing::gtid_key(stream.transactions()));
    }
    // The last round's commit record follows its bytes until recovery cuts it.
    EXPECT_GT(file_size(s.first_event_file), stream.next_position());
    ASSERT_TRUE((*writer)->stop());
  }
  auto store = BinlogStore::open(s.data);
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_EQ(file_size(s.first_event_file), stream.next_position());
  auto events = testing::read_everything(**store);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, stream.events()), "");
}

// Writes file 1 with a group commit, saves the index, then a lone round of two transactions (and
// a metadata put) whose index is then thrown away. Returns the stream.
TestStream acknowledged_round_without_index(const LoneStore& s) {
  TestStream stream;
  auto store = BinlogStore::open(s.data);
  EXPECT_TRUE(store) << store.error().message();
  ProgressLog log;
  auto writer = StoreWriter::start(**store, {}, log.callback());
  EXPECT_TRUE(writer);
  WriteBatch first;
  stream.begin_file(first);
  stream.transaction(first, 2, 100);
  // Bytes past the boundary, later abandoned: the lone round after them is shorter, so its record
  // must cut them to end the file.
  stream.unfinished_events(first, 4, 500);
  EXPECT_TRUE((*writer)->submit(std::move(first)));
  WriteBatch abandon;
  stream.abandon(abandon);
  stream.transaction(abandon, 2, 100);
  EXPECT_TRUE((*writer)->submit(std::move(abandon)));
  EXPECT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  save_index(s);
  lone_round(**writer, log, **store, stream, 2, true);
  EXPECT_TRUE((*writer)->stop());
  writer->reset();
  store->reset();
  restore_index(s);
  return stream;
}

TEST(LoneCommit, AnAcknowledgedRoundWhoseIndexCommitWasLostIsIndexedAgainFromItsRecord) {
  LoneStore s = make_store();
  const TestStream stream = acknowledged_round_without_index(s);
  auto store = BinlogStore::open(s.data);
  ASSERT_TRUE(store) << store.error().message();
  const auto end = (*store)->durable_end();
  ASSERT_TRUE(end);
  EXPECT_EQ(end->position, stream.next_position());
  EXPECT_EQ(end->last_gtid, testing::gtid_key(stream.transactions()));
  EXPECT_EQ(end->executed_gtid_set, testing::gtid_key(stream.transactions()));
  EXPECT_EQ(file_size(s.first_event_file), stream.next_position()) << "the record is cut once indexed";
  auto events = testing::read_everything(**store);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, stream.complete_events()), "");
  auto meta = (*store)->get_meta("lone-meta");
  ASSERT_TRUE(meta && *meta);
  EXPECT_EQ(as_text(**meta), "kept");
  // The writer continues after it, and a second open changes nothing (no duplicate).
  store->reset();
  auto again = BinlogStore::open(s.data);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ((*again)->durable_end(), end);
  auto reread = testing::read_everything(**again);
  ASSERT_TRUE(reread);
  EXPECT_EQ(testing::compare_events(*reread, stream.complete_events()), "");
}

void flip_byte(const std::string& path, std::uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x20);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
}

// A round whose bytes or record did not all reach the disk was never acknowledged: it is cut, and
// the store ends where its index does.
TEST(LoneCommit, ARoundWhoseBytesOrRecordDoNotVerifyIsCutNotIndexed) {
  for (int damage = 0; damage < 3; ++damage) {
    SCOPED_TRACE(damage);
    LoneStore s = make_store();
    const TestStream stream = acknowledged_round_without_index(s);
    const std::uint64_t size = file_size(s.first_event_file);
    const std::uint64_t indexed_end = stream.next_position() - 2 * 3 * 150;
    if (damage == 0) flip_byte(s.first_event_file, indexed_end + 200);            // an event byte
    if (damage == 1) flip_byte(s.first_event_file, stream.next_position() + 5);   // the record
    if (damage == 2) std::filesystem::resize_file(s.first_event_file, size - 1);  // a torn footer
    auto store = BinlogStore::open(s.data);
    ASSERT_TRUE(store) << store.error().message();
    const auto end = (*store)->durable_end();
    ASSERT_TRUE(end);
    EXPECT_EQ(end->position, indexed_end);
    EXPECT_EQ(file_size(s.first_event_file), indexed_end);
  }
}

}  // namespace
}  // namespace brelay::storage
