#include "storage/store_writer.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "storage/store_reader.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/store_test_stream.h"

namespace brelay::storage {
namespace {

using testing::ProgressLog;
using testing::TestStream;

struct Opened {
  testing::TempDir dir;
  std::unique_ptr<BinlogStore> store;
};

Opened open_store(StoreOptions options = {}) {
  auto dir = testing::TempDir::create("store-writer");
  EXPECT_TRUE(dir);
  auto store = BinlogStore::open(dir->file("data"), std::move(options));
  EXPECT_TRUE(store) << store.error().message();
  return Opened{std::move(dir).value(), std::move(store).value()};
}

std::unique_ptr<StoreWriter> start_writer(BinlogStore& store, ProgressLog& log,
                                          StoreWriter::Options options = {}) {
  auto writer = StoreWriter::start(store, options, log.callback());
  EXPECT_TRUE(writer) << writer.error().message();
  return std::move(writer).value();
}

TEST(StoreWriter, PublishesTheDurableEndAfterTheCommitAndReadsBackByteForByte) {
  Opened s = open_store();
  ProgressLog log;
  auto writer = start_writer(*s.store, log);
  TestStream stream;
  WriteBatch batch;
  stream.begin_file(batch);
  for (int i = 0; i < 20; ++i)
    stream.transaction(batch, 4, 200);
  auto admitted = writer->submit(std::move(batch));
  ASSERT_TRUE(admitted) << admitted.error().message();
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));

  const auto durable = s.store->durable_end();
  ASSERT_TRUE(durable);
  EXPECT_EQ(durable->file, stream.current_file());
  EXPECT_EQ(durable->position, stream.next_position());
  EXPECT_EQ(durable->last_gtid, testing::gtid_key(20));
  EXPECT_EQ(durable->executed_gtid_set, testing::gtid_key(20));
  auto events = testing::read_everything(*s.store);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(testing::compare_events(*events, stream.events()), "");
  ASSERT_TRUE(writer->stop());
}

TEST(StoreWriter, ReportsEachCommitsEventsBytesAndTimesToTheObserver) {
  Opened s = open_store();
  ProgressLog log;
  std::mutex mutex;
  std::vector<StoreWriter::CommitStats> commits;
  auto started = StoreWriter::start(*s.store, {}, log.callback(), [&](const StoreWriter::CommitStats& stats) {
    std::lock_guard lock(mutex);
    commits.push_back(stats);
  });
  ASSERT_TRUE(started) << started.error().message();
  auto writer = std::move(started).value();
  TestStream stream;
  WriteBatch batch;
  stream.begin_file(batch);
  for (int i = 0; i < 5; ++i)
    stream.transaction(batch, 3, 100);
  ASSERT_TRUE(writer->submit(std::move(batch)));
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  ASSERT_TRUE(writer->stop());

  std::lock_guard lock(mutex);
  ASSERT_FALSE(commits.empty());
  std::size_t events = 0;
  std::uint64_t bytes = 0;
  for (const auto& commit : commits) {
    events += commit.events;
    bytes += commit.event_bytes;
    EXPECT_GT(commit.commit_time.count(), 0);
    EXPECT_GE(commit.total_time, commit.commit_time);
  }
  EXPECT_EQ(events, stream.events().size());
  EXPECT_EQ(bytes, stream.next_position() - 4);
}

TEST(StoreWriter, RejectsBatchesThatBreakTheStreamRulesAndKeepsGoing) {
  Opened s = open_store();
  ProgressLog log;
  auto writer = start_writer(*s.store, log);
  TestStream stream;

  WriteBatch no_file;
  const Bytes event = testing::make_event(1, 50);
  no_file.append(EventAppend{4, event, true, {}, 0, {}});
  auto rejected = writer->submit(std::move(no_file));
  ASSERT_FALSE(rejected);
  EXPECT_NE(rejected.error().message().find("begin a file first"), std::string::npos)
      << rejected.error().message();

  WriteBatch first;
  stream.begin_file(first);
  stream.transaction(first, 2, 100);
  ASSERT_TRUE(writer->submit(std::move(first)));

  WriteBatch gap;
  gap.append(EventAppend{stream.next_position() + 1, event, true, {}, 0, {}});
  rejected = writer->submit(std::move(gap));
  ASSERT_FALSE(rejected);
  EXPECT_NE(rejected.error().message().find("contiguous"), std::string::npos) << rejected.error().message();

  WriteBatch twice;
  twice.begin_file(FileStart{stream.current_file(), 4, {}, {}});
  EXPECT_FALSE(writer->submit(std::move(twice)));

  WriteBatch mid_transaction;
  stream.unfinished_events(mid_transaction, 1, 60);
  mid_transaction.begin_file(FileStart{"other.000001", 4, {}, {}});
  rejected = writer->submit(std::move(mid_transaction));
  ASSERT_FALSE(rejected);
  EXPECT_NE(rejected.error().message().find("unfinished"), std::string::npos) << rejected.error().message();

  WriteBatch empty_event;
  empty_event.append(EventAppend{stream.boundary_position(), {}, true, {}, 0, {}});
  EXPECT_FALSE(writer->submit(std::move(empty_event)));

  // A rejected batch queued nothing: the stream continues where the last accepted batch ended.
  TestStream replay;
  WriteBatch again;
  replay.begin_file(again);
  replay.transaction(again, 2, 100);
  WriteBatch next;
  replay.transaction(next, 3, 80);
  replay.end_file(next);
  ASSERT_TRUE(writer->submit(std::move(next)));
  ASSERT_TRUE(log.wait_durable(replay.current_file(), replay.next_position()));
  auto events = testing::read_everything(*s.store);
  ASSERT_TRUE(events);
  EXPECT_EQ(testing::compare_events(*events, replay.events()), "");

  WriteBatch after_end;
  after_end.append(EventAppend{replay.next_position(), event, true, {}, 0, {}});
  rejected = writer->submit(std::move(after_end));
  ASSERT_FALSE(rejected);
  EXPECT_NE(rejected.error().message().find("has ended"), std::string::npos) << rejected.error().message();
}

TEST(StoreWriter, AnUnfinishedTransactionIsCommittedButNeverPublished) {
  Opened s = open_store();
  ProgressLog log;
  auto writer = start_writer(*s.store, log);
  TestStream stream;
  WriteBatch batch;
  stream.begin_file(batch);
  stream.transaction(batch, 3, 100);
  ASSERT_TRUE(writer->submit(std::move(batch)));
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  const std::uint64_t boundary = stream.next_position();

  WriteBatch partial;
  stream.unfinished_events(partial, 5, 300);
  const std::uint64_t commits = log.latest().commits;
  ASSERT_TRUE(writer->submit(std::move(partial)));
  ASSERT_TRUE(log.wait_until([&](const StoreWriter::Progress& p) { return p.commits > commits; }));
  EXPECT_EQ(s.store->durable_end()->position, boundary);
  auto events = testing::read_everything(*s.store);
  ASSERT_TRUE(events);
  EXPECT_EQ(testing::compare_events(*events, stream.complete_events()), "");
  auto listed = s.store->find_file(stream.current_file());
  ASSERT_TRUE(listed);
  ASSERT_TRUE(*listed);
  EXPECT_EQ((*listed)->end_position, boundary);

  // The upstream lost its connection: it abandons the transaction and fetches it again.
  WriteBatch retry;
  stream.abandon(retry);
  stream.transaction(retry, 2, 150);
  ASSERT_TRUE(writer->submit(std::move(retry)));
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  events = testing::read_everything(*s.store);
  ASSERT_TRUE(events);
  EXPECT_EQ(testing::compare_events(*events, stream.events()), "");
}

TEST(StoreWriter, QueueFullTellsTheProducerToWaitAndAProgressReportReleasesIt) {
  Opened s = open_store();
  ProgressLog log;
  StoreWriter::Options options;
  options.queue_limit_bytes = 64 * 1024;
  auto writer = start_writer(*s.store, log, options);
  TestStream stream;
  WriteBatch batch;
  stream.begin_file(batch);
  for (int i = 0; i < 100; ++i)
    stream.transaction(batch, 2, 1000);
  auto admitted = writer->submit(std::move(batch));
  ASSERT_TRUE(admitted);
  EXPECT_TRUE(admitted->queue_full);
  ASSERT_TRUE(log.wait_until([](const StoreWriter::Progress& p) { return !p.queue_full; }));
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));

  WriteBatch small;
  stream.transaction(small, 1, 100);
  admitted = writer->submit(std::move(small));
  ASSERT_TRUE(admitted);
  EXPECT_FALSE(admitted->queue_full);
}

TEST(WriteBatch, FillingUpToItsReserveKeepsItsBuffersAndALargerEventGrowsThem) {
  WriteBatch batch;
  batch.reserve(64 * 1024, 64);
  const std::size_t reserved = batch.capacity_bytes();
  ASSERT_GE(reserved, 64u * 1024);
  TestStream stream;
  stream.begin_file(batch);
  for (int i = 0; i < 10; ++i)
    stream.transaction(batch, 3, 2000);
  EXPECT_EQ(batch.capacity_bytes(), reserved) << "appending within the reserve must not reallocate";
  stream.transaction(batch, 1, 100 * 1024);
  EXPECT_GT(batch.capacity_bytes(), reserved);
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_GT(batch.capacity_bytes(), reserved) << "clear() keeps the buffers";
}

// Issue 20: a batch reserved up front (the upstream reserves its submit size) holds more capacity
// than bytes. The spares were bounded by queue_limit_bytes of capacity, so a busy stream dropped
// committed batches and made new ones, whose fresh pages cost the loop thread a page fault per
// 4 KiB (about 10 % of its CPU per ingested MiB). Every batch that was in flight comes back now.
TEST(StoreWriter, EveryCommittedBatchComesBackForReuse) {
  Opened s = open_store();
  ProgressLog log;
  StoreWriter::Options options;
  options.queue_limit_bytes = 256 * 1024;
  options.max_commit_bytes = 64 * 1024;
  auto writer = start_writer(*s.store, log, options);
  constexpr int kBatches = 6;
  constexpr std::size_t kReserve = 64 * 1024;
  TestStream stream;
  // All taken before any is submitted, so that kBatches distinct batches are in flight however
  // fast the writer commits (taken one by one, a fast writer hands the first one back again).
  std::vector<WriteBatch> taken;
  for (int b = 0; b < kBatches; ++b) {
    WriteBatch batch = writer->take_batch();
    batch.reserve(kReserve, 64);
    if (b == 0) stream.begin_file(batch);
    for (int i = 0; i < 10; ++i)
      stream.transaction(batch, 2, 2000);
    ASSERT_LT(batch.byte_size(), kReserve);
    taken.push_back(std::move(batch));
  }
  for (WriteBatch& batch : taken)
    ASSERT_TRUE(writer->submit(std::move(batch)));
  ASSERT_TRUE(writer->stop());  // every round committed and its batches returned
  for (int b = 0; b < kBatches; ++b) {
    const WriteBatch batch = writer->take_batch();
    EXPECT_TRUE(batch.empty());
    EXPECT_GE(batch.capacity_bytes(), kReserve) << "batch " << b << " was made anew";
  }
  auto events = testing::read_everything(*s.store);
  ASSERT_TRUE(events);
  EXPECT_EQ(testing::compare_events(*events, stream.events()), "");
}

TEST(StoreWriter, StopCommitsWhatIsQueuedAndANewWriterContinuesTheStream) {
  Opened s = open_store();
  TestStream stream;
  {
    ProgressLog log;
    auto writer = start_writer(*s.store, log);
    for (int b = 0; b < 10; ++b) {
      WriteBatch batch;
      if (b == 0) stream.begin_file(batch);
      if (b == 5) {
        stream.end_file(batch);
        stream.begin_file(batch);
      }
      for (int i = 0; i < 10; ++i)
        stream.transaction(batch, 3, 500);
      ASSERT_TRUE(writer->submit(std::move(batch)));
    }
    ASSERT_TRUE(writer->stop());
    EXPECT_TRUE(writer->stop()) << "stop is idempotent";
  }
  auto durable = s.store->durable_end();
  ASSERT_TRUE(durable);
  EXPECT_EQ(durable->position, stream.next_position());
  ProgressLog log;
  auto writer = start_writer(*s.store, log);
  WriteBatch more;
  stream.transaction(more, 2, 100);
  ASSERT_TRUE(writer->submit(std::move(more)));
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  auto events = testing::read_everything(*s.store);
  ASSERT_TRUE(events);
  EXPECT_EQ(testing::compare_events(*events, stream.events()), "");
  auto files = s.store->list_files();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 2u);
  EXPECT_TRUE((*files)[0].closed);
  EXPECT_FALSE((*files)[1].closed);
  EXPECT_EQ((*files)[1].format_description, TestStream::format_description_for((*files)[1].name));
}

TEST(StoreWriter, OneKeyPerEventStoresTheSameStream) {
  Opened s = open_store();
  ProgressLog log;
  StoreWriter::Options options;
  options.max_run_bytes = 1;
  auto writer = start_writer(*s.store, log, options);
  TestStream stream;
  WriteBatch batch;
  stream.begin_file(batch);
  for (int i = 0; i < 50; ++i)
    stream.transaction(batch, 3, 10 + static_cast<std::size_t>(i) * 7);
  ASSERT_TRUE(writer->submit(std::move(batch)));
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  auto events = testing::read_everything(*s.store, 1000);
  ASSERT_TRUE(events);
  EXPECT_EQ(testing::compare_events(*events, stream.events()), "");
}

TEST(StoreWriter, SyncNonePublishesAfterTheCommit) {
  StoreOptions options;
  options.sync = SyncMode::kNone;
  Opened s = open_store(options);
  ProgressLog log;
  auto writer = start_writer(*s.store, log);
  TestStream stream;
  WriteBatch batch;
  stream.begin_file(batch);
  stream.transaction(batch, 2, 100);
  ASSERT_TRUE(writer->submit(std::move(batch)));
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
}

TEST(StoreWriter, MetadataPutsAreDurableWithTheEvents) {
  Opened s = open_store();
  ProgressLog log;
  auto writer = start_writer(*s.store, log);
  TestStream stream;
  WriteBatch batch;
  stream.begin_file(batch);
  batch.put_meta("source.server_uuid", as_bytes("3e11fa47-71ca-11e1-9e33-c80aa9429562"));
  stream.transaction(batch, 1, 100);
  ASSERT_TRUE(writer->submit(std::move(batch)));
  ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
  auto value = s.store->get_meta("source.server_uuid");
  ASSERT_TRUE(value);
  ASSERT_TRUE(*value);
  EXPECT_EQ(as_text(**value), "3e11fa47-71ca-11e1-9e33-c80aa9429562");
}

// A full map stops the writer with a clear error; readers keep reading what is durable; a purge
// frees pages and the writer resumes by itself from the durable end.
TEST(StoreWriter, FullMapStopsWritingReadersKeepWorkingAndAPurgeResumesIt) {
  StoreOptions store_options;
  store_options.map_size = 4 << 20;
  Opened s = open_store(store_options);
  ProgressLog log;
  StoreWriter::Options options;
  options.retry_interval = std::chrono::milliseconds(20);
  options.resume_free_bytes = 1 << 20;
  auto writer = start_writer(*s.store, log, options);
  TestStream stream;
  bool stopped = false;
  // Event bytes live in event files; the map holds the index, which small transactions (a run end
  // and two GTID entries each) fill fastest.
  for (int b = 0; b < 2000 && !stopped; ++b) {
    WriteBatch batch;
    if (b % 5 == 0) {
      if (b > 0) stream.end_file(batch);
      stream.begin_file(batch);
    }
    for (int i = 0; i < 200; ++i)
      stream.transaction(batch, 1, 30);
    if (!writer->submit(std::move(batch))) break;
    ASSERT_TRUE(log.wait_until([&](const StoreWriter::Progress& p) {
      return !p.accepting || (p.durable_end && p.durable_end->position == stream.next_position());
    }));
    stopped = !log.latest().accepting;
  }
  ASSERT_TRUE(stopped) << "a 4 MiB map never filled";
  const StoreWriter::Progress failed = log.latest();
  ASSERT_TRUE(failed.error);
  EXPECT_EQ(failed.error->code(), MDB_MAP_FULL);
  EXPECT_NE(failed.error->message().find("readers keep working"), std::string::npos)
      << failed.error->message();
  WriteBatch refused;
  stream.transaction(refused, 1, 10);
  EXPECT_FALSE(writer->submit(std::move(refused)));

  // Everything published before the failure reads back intact.
  const auto durable = s.store->durable_end();
  ASSERT_TRUE(durable);
  auto events = testing::read_everything(*s.store);
  ASSERT_TRUE(events) << events.error().message();
  std::vector<testing::StoredEvent> expected;
  for (const auto& e : stream.events()) {
    if (e.file < durable->file || (e.file == durable->file && e.position < durable->position))
      expected.push_back(e);
  }
  EXPECT_EQ(testing::compare_events(*events, expected), "");

  std::mutex purge_mutex;
  std::optional<Result<PurgeReport>> purge_result;
  auto files = s.store->list_files();
  ASSERT_TRUE(files);
  ASSERT_GE(files->size(), 3u);
  writer->request_purge(PurgeRequest::to((*files)[files->size() - 2].name), [&](Result<PurgeReport> report) {
    std::lock_guard lock(purge_mutex);
    purge_result = std::move(report);
  });
  const bool resumed = log.wait_until([](const StoreWriter::Progress& p) { return p.accepting; });
  {
    std::lock_guard lock(purge_mutex);
    if (purge_result && !*purge_result) ADD_FAILURE() << purge_result->error().message();
  }
  ASSERT_TRUE(resumed) << (log.latest().error ? log.latest().error->message() : "");
  EXPECT_EQ(log.latest().restarts, 1u);
  {
    std::lock_guard lock(purge_mutex);
    ASSERT_TRUE(purge_result);
    ASSERT_TRUE(*purge_result) << purge_result->error().message();
    EXPECT_EQ((*purge_result)->purged_files.size(), files->size() - 2);
  }
  // The producer restarts from the durable end.
  const auto resume = log.latest().durable_end;
  ASSERT_TRUE(resume);
  EXPECT_EQ(*resume, *durable);
  WriteBatch next;
  const Bytes event = testing::make_event(99, 300);
  const Bytes gtid = testing::gtid_key(100000);
  next.append(EventAppend{resume->position, event, true, gtid, 0, {}});
  ASSERT_TRUE(writer->submit(std::move(next)));
  ASSERT_TRUE(log.wait_durable(resume->file, resume->position + event.size()));
}

}  // namespace
}  // namespace brelay::storage

namespace brelay::storage {
namespace {

TEST(StoreWriter, AStoreHasOneWriterAtATime) {
  Opened s = open_store();
  auto first = StoreWriter::start(*s.store, {});
  ASSERT_TRUE(first);
  auto second = StoreWriter::start(*s.store, {});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("already has a writer"), std::string::npos);
  first->reset();
  EXPECT_TRUE(StoreWriter::start(*s.store, {}));
}

}  // namespace
}  // namespace brelay::storage
