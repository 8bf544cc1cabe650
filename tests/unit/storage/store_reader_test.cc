#include "storage/store_reader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "storage/retention.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/store_test_stream.h"

namespace brelay::storage {
namespace {

using testing::ProgressLog;
using testing::TestStream;

// A store holding three files of small transactions (runs of many events) written by a writer that
// the test keeps running.
class StoreReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::create("store-reader");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<testing::TempDir>(std::move(dir).value());
    auto store = BinlogStore::open(dir_->file("data"));
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(store).value();
    auto writer = StoreWriter::start(*store_, {}, log_.callback());
    ASSERT_TRUE(writer);
    writer_ = std::move(writer).value();
    for (int file = 0; file < 3; ++file) {
      WriteBatch batch;
      if (file > 0) stream_.end_file(batch);
      stream_.begin_file(batch);
      for (int i = 0; i < 30; ++i)
        stream_.transaction(batch, 1 + i % 4, 100 + static_cast<std::size_t>(i) * 13);
      submit(std::move(batch));
    }
  }

  void submit(WriteBatch batch) {
    ASSERT_TRUE(writer_->submit(std::move(batch)));
    ASSERT_TRUE(log_.wait_until([&](const StoreWriter::Progress& p) {
      return p.durable_end && p.durable_end->position == stream_.boundary_position() &&
             p.durable_end->file == stream_.current_file();
    }));
  }

  StoreReader open_reader() {
    auto reader = StoreReader::open(*store_);
    EXPECT_TRUE(reader) << reader.error().message();
    return std::move(reader).value();
  }

  // Reads from the reader's position to the durable end, one entry per event.
  std::vector<testing::StoredEvent> read_rest(StoreReader& reader, std::size_t max_bytes = 4096) {
    std::vector<testing::StoredEvent> events;
    while (true) {
      auto batch = reader.read(max_bytes);
      EXPECT_TRUE(batch) << batch.error().message();
      if (!batch || batch->at_durable_end) break;
      for (const EventRun& run : batch->runs) {
        for (std::size_t i = 0; i < run.event_count(); ++i) {
          const ByteView event = run.event(i);
          events.push_back(
              {reader.file().name, run.event_position(i), Bytes(event.begin(), event.end()), false});
        }
      }
      reader.consume(batch->bytes);
    }
    reader.release();
    return events;
  }

  std::vector<testing::StoredEvent> expected_from(const std::string& file, std::uint64_t position) {
    std::vector<testing::StoredEvent> expected;
    bool started = false;
    for (const auto& e : stream_.complete_events()) {
      started = started || (e.file == file && e.position == position);
      if (started) expected.push_back(e);
    }
    return expected;
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<BinlogStore> store_;
  ProgressLog log_;
  std::unique_ptr<StoreWriter> writer_;
  TestStream stream_;
};

TEST_F(StoreReaderTest, ReadsEveryFileInOrderAndAnnouncesEachNewFile) {
  StoreReader reader = open_reader();
  ASSERT_TRUE(reader.seek_oldest());
  EXPECT_EQ(reader.file().name, "source-bin.000001");
  EXPECT_EQ(reader.position(), 4u);
  std::vector<std::string> announced;
  std::vector<testing::StoredEvent> events;
  while (true) {
    auto batch = reader.read(1 << 20);
    ASSERT_TRUE(batch) << batch.error().message();
    if (batch->file_changed) {
      announced.push_back(reader.file().name);
      EXPECT_EQ(reader.file().format_description, TestStream::format_description_for(reader.file().name));
    }
    if (batch->at_durable_end) break;
    for (const EventRun& run : batch->runs) {
      EXPECT_EQ(run.partial_prefix(), 0u);
      for (std::size_t i = 0; i < run.event_count(); ++i)
        events.push_back(
            {reader.file().name, run.event_position(i), Bytes(run.event(i).begin(), run.event(i).end())});
    }
    reader.consume(batch->bytes);
  }
  EXPECT_EQ(announced, (std::vector<std::string>{"source-bin.000002", "source-bin.000003"}));
  EXPECT_EQ(testing::compare_events(events, stream_.events()), "");
}

TEST_F(StoreReaderTest, SeeksToAnyEventStartInAnyFile) {
  const auto& all = stream_.events();
  for (std::size_t i = 0; i < all.size(); i += 7) {
    StoreReader reader = open_reader();
    ASSERT_TRUE(reader.seek(all[i].file, all[i].position)) << all[i].file << ":" << all[i].position;
    EXPECT_EQ(testing::compare_events(read_rest(reader, 1000), expected_from(all[i].file, all[i].position)),
              "")
        << "from " << all[i].file << ":" << all[i].position;
  }
}

TEST_F(StoreReaderTest, PositionErrorsSayWhatIsWrong) {
  StoreReader reader = open_reader();
  const auto& all = stream_.events();
  const testing::StoredEvent& middle = all[all.size() / 2];
  auto inside = reader.seek(middle.file, middle.position + 1);
  ASSERT_FALSE(inside);
  EXPECT_NE(inside.error().message().find(fmt::format("that event starts at {}", middle.position)),
            std::string::npos)
      << inside.error().message();

  const auto end = store_->durable_end();
  auto beyond = reader.seek(end->file, end->position + 1);
  ASSERT_FALSE(beyond);
  EXPECT_NE(beyond.error().message().find("beyond the end"), std::string::npos) << beyond.error().message();

  auto before = reader.seek("source-bin.000001", 2);
  ASSERT_FALSE(before);
  EXPECT_NE(before.error().message().find("starts at position 4"), std::string::npos)
      << before.error().message();

  auto unknown = reader.seek("source-bin.000009", 4);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("no binary log named 'source-bin.000009'"), std::string::npos);

  EXPECT_FALSE(reader.positioned());
  auto unpositioned = reader.read(100);
  EXPECT_FALSE(unpositioned);

  // The durable end itself is a valid place to wait.
  ASSERT_TRUE(reader.seek(end->file, end->position));
  auto batch = reader.read(100);
  ASSERT_TRUE(batch);
  EXPECT_TRUE(batch->at_durable_end);
  EXPECT_TRUE(batch->runs.empty());
}

TEST_F(StoreReaderTest, SeeksByGtidToTheTransactionsFirstEvent) {
  for (const auto& [gtid, start] : stream_.gtid_starts()) {
    StoreReader reader = open_reader();
    ASSERT_TRUE(reader.seek_gtid(testing::gtid_key(gtid))) << gtid;
    EXPECT_EQ(reader.file().name, start.first);
    EXPECT_EQ(reader.position(), start.second);
  }
  StoreReader reader = open_reader();
  auto unknown = reader.seek_gtid(testing::gtid_key(99999));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("no transaction with GTID"), std::string::npos);

  // A transaction that has begun but not ended is not found yet.
  WriteBatch partial;
  stream_.unfinished_events(partial, 2, 100);
  const std::uint64_t commits = log_.latest().commits;
  ASSERT_TRUE(writer_->submit(std::move(partial)));
  ASSERT_TRUE(log_.wait_until([&](const StoreWriter::Progress& p) { return p.commits > commits; }));
  auto incomplete = reader.seek_gtid(testing::gtid_key(stream_.transactions() + 1));
  ASSERT_FALSE(incomplete);
  EXPECT_NE(incomplete.error().message().find("not complete"), std::string::npos)
      << incomplete.error().message();
}

TEST_F(StoreReaderTest, NeverReadsPastTheDurableEndAndPicksUpNewTransactions) {
  StoreReader reader = open_reader();
  const auto end = store_->durable_end();
  ASSERT_TRUE(reader.seek(end->file, end->position));
  WriteBatch partial;
  stream_.unfinished_events(partial, 3, 500);
  const std::uint64_t commits = log_.latest().commits;
  ASSERT_TRUE(writer_->submit(std::move(partial)));
  ASSERT_TRUE(log_.wait_until([&](const StoreWriter::Progress& p) { return p.commits > commits; }));
  auto batch = reader.read(1 << 20);
  ASSERT_TRUE(batch);
  EXPECT_TRUE(batch->at_durable_end);
  EXPECT_EQ(batch->bytes, 0u);

  WriteBatch finish;
  stream_.abandon(finish);
  stream_.transaction(finish, 2, 64);
  submit(std::move(finish));
  EXPECT_EQ(testing::compare_events(read_rest(reader), expected_from(end->file, end->position)), "");
}

TEST_F(StoreReaderTest, ConsumingPartOfAnEventResumesInsideIt) {
  StoreReader reader = open_reader();
  ASSERT_TRUE(reader.seek_file_start("source-bin.000002"));
  auto batch = reader.read(1 << 20);
  ASSERT_TRUE(batch);
  ASSERT_FALSE(batch->runs.empty());
  const EventRun& first = batch->runs.front();
  ASSERT_GE(first.event_count(), 2u);
  const Bytes second_event(first.event(1).begin(), first.event(1).end());
  const std::uint64_t second_position = first.event_position(1);
  reader.consume(first.event(0).size() + 10);
  batch = reader.read(1 << 20);
  ASSERT_TRUE(batch);
  const EventRun& resumed = batch->runs.front();
  EXPECT_EQ(resumed.position(), second_position + 10);
  EXPECT_EQ(resumed.partial_prefix(), second_event.size() - 10);
  EXPECT_TRUE(std::ranges::equal(resumed.bytes().first(second_event.size() - 10),
                                 ByteView(second_event).subspan(10)));
  EXPECT_EQ(resumed.event_position(0), second_position + second_event.size());
}

TEST_F(StoreReaderTest, ManyReadersOnOneThreadEachKeepTheirOwnPlace) {
  std::vector<StoreReader> readers;
  for (int i = 0; i < 40; ++i) {
    readers.push_back(open_reader());
    ASSERT_TRUE(readers.back().seek_oldest());
  }
  EXPECT_EQ(store_->registered_readers(), 40u);
  std::vector<std::vector<testing::StoredEvent>> seen(readers.size());
  bool progress = true;
  while (progress) {
    progress = false;
    for (std::size_t r = 0; r < readers.size(); ++r) {
      auto batch = readers[r].read(300 + r * 50);
      ASSERT_TRUE(batch) << batch.error().message();
      for (const EventRun& run : batch->runs) {
        for (std::size_t i = 0; i < run.event_count(); ++i)
          seen[r].push_back({readers[r].file().name, run.event_position(i),
                             Bytes(run.event(i).begin(), run.event(i).end())});
      }
      readers[r].consume(batch->bytes);
      progress = progress || !batch->at_durable_end;
    }
  }
  for (auto& reader : readers)
    reader.release();
  for (const auto& events : seen)
    EXPECT_EQ(testing::compare_events(events, stream_.events()), "");
  readers.clear();
  EXPECT_EQ(store_->registered_readers(), 0u);
}

TEST_F(StoreReaderTest, AReaderFollowsAFileThatGrowsPastItsMapAndKeepsItsViewsUntilRelease) {
  StoreReader reader = open_reader();
  const auto end = store_->durable_end();
  ASSERT_TRUE(reader.seek(end->file, end->position));
  // Past the 64 MiB a first map of the file covers, in 1 MiB transactions.
  for (int round = 0; round < 3; ++round) {
    WriteBatch batch;
    for (int i = 0; i < 25; ++i)
      stream_.transaction(batch, 4, 256 << 10);
    submit(std::move(batch));
    auto first = reader.read(1 << 20);
    ASSERT_TRUE(first) << first.error().message();
    ASSERT_FALSE(first->runs.empty());
    const ByteView held = first->runs.front().bytes();
    const Bytes copy(held.begin(), held.end());
    // The writer appends more while the batch is out; the views stay what they were.
    WriteBatch more;
    stream_.transaction(more, 1, 1000);
    submit(std::move(more));
    EXPECT_TRUE(std::equal(copy.begin(), copy.end(), held.begin()));
    reader.consume(first->bytes);
    reader.release();
  }
  const auto rest = read_rest(reader, 8 << 20);
  const auto expected = expected_from(end->file, end->position);
  ASSERT_GT(expected.size(), rest.size());
  const std::vector<testing::StoredEvent> tail(expected.end() - static_cast<std::ptrdiff_t>(rest.size()),
                                               expected.end());
  EXPECT_EQ(testing::compare_events(rest, tail), "");
  EXPECT_GT(reader.position(), std::uint64_t{64} << 20);
}

// Batches end at an event end within max_bytes, whatever the runs, so that they fit the reader's
// copy buffer; an event larger than that buffer comes alone, as a view of the map.
TEST_F(StoreReaderTest, BatchesStayWithinMaxBytesAndAnEventLargerThanTheCopyBufferComesAlone) {
  StoreReader reader = open_reader();
  const auto end = store_->durable_end();
  ASSERT_TRUE(reader.seek(end->file, end->position));
  WriteBatch batch;
  stream_.transaction(batch, 40, 3000);
  stream_.transaction(batch, 3, StoreReader::kMaxCopiedBytes + 4096);
  stream_.transaction(batch, 40, 3000);
  submit(std::move(batch));
  constexpr std::size_t kMaxBytes = 64 << 10;
  std::vector<testing::StoredEvent> events;
  std::size_t large = 0;
  while (true) {
    auto read = reader.read(kMaxBytes);
    ASSERT_TRUE(read) << read.error().message();
    if (read->at_durable_end) break;
    std::size_t in_batch = 0;
    for (const EventRun& run : read->runs) {
      for (std::size_t i = 0; i < run.event_count(); ++i) {
        events.push_back(
            {reader.file().name, run.event_position(i), Bytes(run.event(i).begin(), run.event(i).end())});
        ++in_batch;
      }
    }
    if (read->bytes > kMaxBytes) {
      EXPECT_EQ(in_batch, 1u) << "a batch of " << read->bytes << " bytes";
      ++large;
    }
    reader.consume(read->bytes);
  }
  reader.release();
  EXPECT_EQ(large, 3u);
  EXPECT_EQ(testing::compare_events(events, expected_from(end->file, end->position)), "");
}

// An event file cut short under a reader that holds its map: copied reads come back short, an error
// with kStoreDamagedCode, never a signal.
TEST_F(StoreReaderTest, AnEventFileCutShortUnderTheReaderIsDamageNotACrash) {
  StoreReader reader = open_reader();
  ASSERT_TRUE(reader.seek_file_start("source-bin.000002"));
  auto first = reader.read(512);
  ASSERT_TRUE(first) << first.error().message();
  reader.consume(first->bytes);
  reader.release();
  std::filesystem::resize_file(dir_->file("data") + "/events/0000000002.events", reader.position());
  auto cut = reader.read(512);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code(), kStoreDamagedCode);
  EXPECT_NE(cut.error().message().find("can no longer be read"), std::string::npos) << cut.error().message();
}

// The checked mark (store_reader.h): shared by the readers that hold a file's map, widened only by
// stretches that touch it, and gone with the map, so that the next reader checks again.
TEST_F(StoreReaderTest, ReadersOfAFilesMapShareItsCheckedMarkWhichGoesWithTheMap) {
  auto first_batch = [](StoreReader& reader) {
    auto batch = reader.read(2000);
    EXPECT_TRUE(batch) << batch.error().message();
    return batch ? *batch : ReadBatch();
  };
  std::uint64_t start = 0;
  std::size_t bytes = 0;
  {
    StoreReader a = open_reader();
    StoreReader b = open_reader();
    ASSERT_TRUE(a.seek_file_start("source-bin.000002"));
    ASSERT_TRUE(b.seek_file_start("source-bin.000002"));
    const ReadBatch read_a = first_batch(a);
    EXPECT_EQ(read_a.checked_begin, read_a.checked_end);  // nothing checked yet
    start = a.position();
    bytes = read_a.bytes;
    a.mark_checked(start, start + bytes);
    a.release();
    const ReadBatch read_b = first_batch(b);
    EXPECT_EQ(read_b.checked_begin, start);
    EXPECT_EQ(read_b.checked_end, start + bytes);
    // A stretch that does not touch the mark leaves it as it is; one that touches it widens it.
    b.mark_checked(start + bytes + 100, start + bytes + 200);
    b.release();
    b.consume(read_b.bytes);
    const ReadBatch next_b = first_batch(b);
    EXPECT_EQ(next_b.checked_end, start + bytes);
    b.mark_checked(b.position(), b.position() + next_b.bytes);
    b.release();
    const ReadBatch again_a = first_batch(a);
    EXPECT_EQ(again_a.checked_begin, start);
    EXPECT_EQ(again_a.checked_end, start + bytes + next_b.bytes);
    a.release();
  }
  // Both readers are gone, and the map with them: a new reader sees nothing checked.
  StoreReader c = open_reader();
  ASSERT_TRUE(c.seek_file_start("source-bin.000002"));
  const ReadBatch read_c = first_batch(c);
  EXPECT_EQ(read_c.checked_begin, read_c.checked_end);
  EXPECT_GT(read_c.bytes, 0u);
}

TEST_F(StoreReaderTest, AForcedPurgeOfTheFileBeingReadIsAnErrorNotACrash) {
  StoreReader reader = open_reader();
  ASSERT_TRUE(reader.seek_file_start("source-bin.000001"));
  auto kept = Retention::purge(*store_, PurgeRequest::to("source-bin.000002"));
  ASSERT_TRUE(kept) << kept.error().message();
  EXPECT_TRUE(kept->purged_files.empty());
  EXPECT_EQ(kept->kept_for_reader, "source-bin.000001");
  auto forced = Retention::purge(*store_, PurgeRequest::to("source-bin.000002", false));
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->purged_files, (std::vector<std::string>{"source-bin.000001"}));
  auto batch = reader.read(100);
  ASSERT_FALSE(batch);
  EXPECT_NE(batch.error().message().find("was purged"), std::string::npos) << batch.error().message();
}

}  // namespace
}  // namespace brelay::storage
