#include "storage/retention.h"

#include <gtest/gtest.h>

#include <atomic>

#include "storage/lmdb_txn.h"
#include "storage/store_internals.h"
#include "storage/store_reader.h"
#include "storage/store_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/store_test_stream.h"

namespace brelay::storage {
namespace {

using testing::ProgressLog;
using testing::TestStream;

// Four files written at relay times 1000, 2000, 3000 and 4000; the first three are closed. File n
// holds 5 transactions of n * 10 events each, so every file has a different size.
class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::create("retention");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<testing::TempDir>(std::move(dir).value());
    StoreOptions options;
    options.clock = [this] { return clock_.load(); };
    auto store = BinlogStore::open(dir_->file("data"), options);
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(store).value();
    auto writer = StoreWriter::start(*store_, {}, log_.callback());
    ASSERT_TRUE(writer);
    writer_ = std::move(writer).value();
    for (int file = 1; file <= 4; ++file) {
      clock_ = file * 1000;
      WriteBatch batch;
      stream_.begin_file(batch);
      first_gtid_[file] = stream_.transactions() + 1;
      for (int i = 0; i < 5; ++i)
        stream_.transaction(batch, file * 10, 200);
      if (file < 4) stream_.end_file(batch);
      ASSERT_TRUE(writer_->submit(std::move(batch)));
      ASSERT_TRUE(log_.wait_durable(stream_.current_file(), stream_.next_position()));
    }
    auto files = store_->list_files();
    ASSERT_TRUE(files);
    ASSERT_EQ(files->size(), 4u);
    files_ = *files;
  }

  std::vector<std::string> remaining() {
    std::vector<std::string> names;
    auto files = store_->list_files();
    EXPECT_TRUE(files);
    for (const FileInfo& file : *files)
      names.push_back(file.name);
    return names;
  }

  static std::string name(int n) { return fmt::format("source-bin.{:06}", n); }

  std::unique_ptr<testing::TempDir> dir_;
  std::atomic<std::int64_t> clock_{0};
  std::unique_ptr<BinlogStore> store_;
  ProgressLog log_;
  std::unique_ptr<StoreWriter> writer_;
  TestStream stream_;
  std::map<int, std::uint64_t> first_gtid_;
  std::vector<FileInfo> files_;
};

TEST_F(RetentionTest, FilesAreWrittenWithTheRelayClock) {
  for (int n = 1; n <= 4; ++n)
    EXPECT_EQ(files_[static_cast<std::size_t>(n - 1)].last_write_time, n * 1000) << name(n);
}

TEST_F(RetentionTest, PurgesByAgeAndReportsThePurgedGtidSet) {
  RetentionPolicy policy;
  policy.max_age_seconds = 1500;
  PurgeRequest request = PurgeRequest::by_policy(policy);
  request.now = 3600;  // files last written before 2100 are too old
  auto report = Retention::purge(*store_, request);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(1), name(2)}));
  EXPECT_EQ(report->purged_bytes, files_[0].stored_bytes() + files_[1].stored_bytes());
  EXPECT_EQ(report->purged_gtid_set, TestStream::previous_gtids_for(first_gtid_[3]));
  EXPECT_EQ(report->purged_gtid_set, to_bytes(fmt::format("1-{}", first_gtid_[3] - 1)));
  EXPECT_FALSE(report->kept_for_reader);
  EXPECT_EQ(remaining(), (std::vector<std::string>{name(3), name(4)}));
  auto purged = store_->purged_gtid_set();
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, report->purged_gtid_set);

  // Nothing else is old enough: a second run purges nothing.
  auto again = Retention::purge(*store_, request);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->purged_files.empty());
}

TEST_F(RetentionTest, PurgesBySizeOldestFirstButNeverTheNewestFile) {
  RetentionPolicy policy;
  policy.max_total_bytes = files_[2].stored_bytes() + files_[3].stored_bytes();
  auto report = Retention::purge(*store_, PurgeRequest::by_policy(policy));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(1), name(2)}));
  auto stats = store_->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->stored_bytes, policy.max_total_bytes);

  policy.max_total_bytes = 1;
  report = Retention::purge(*store_, PurgeRequest::by_policy(policy));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(3)}));
  EXPECT_EQ(remaining(), (std::vector<std::string>{name(4)}));
  EXPECT_EQ(report->purged_gtid_set, TestStream::previous_gtids_for(first_gtid_[4]));
}

TEST_F(RetentionTest, ARegisteredReaderProtectsItsFileUnlessForced) {
  auto reader = StoreReader::open(*store_);
  ASSERT_TRUE(reader);
  ASSERT_TRUE(reader->seek_file_start(name(2)));
  RetentionPolicy policy;
  policy.max_total_bytes = 1;
  auto report = Retention::purge(*store_, PurgeRequest::by_policy(policy));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(1)}));
  EXPECT_EQ(report->kept_for_reader, name(2));

  // The reader moves on to file 3: file 2 may go now.
  auto batch = reader->read(std::size_t{1} << 30);
  ASSERT_TRUE(batch);
  reader->consume(batch->bytes);
  batch = reader->read(1);
  ASSERT_TRUE(batch);
  EXPECT_TRUE(batch->file_changed);
  EXPECT_EQ(reader->file().name, name(3));
  reader->release();
  report = Retention::purge(*store_, PurgeRequest::by_policy(policy));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(2)}));
  EXPECT_EQ(report->kept_for_reader, name(3));

  report = Retention::purge(*store_, PurgeRequest::by_policy(policy, /*protect_readers=*/false));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(3)}));
  EXPECT_EQ(remaining(), (std::vector<std::string>{name(4)}));
}

TEST_F(RetentionTest, PurgeToAFileRemovesEverythingBeforeIt) {
  auto unknown = Retention::purge(*store_, PurgeRequest::to("source-bin.000099"));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("no file of that name"), std::string::npos);
  EXPECT_EQ(remaining().size(), 4u);

  auto report = Retention::purge(*store_, PurgeRequest::to(name(3)));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(1), name(2)}));
  EXPECT_EQ(remaining(), (std::vector<std::string>{name(3), name(4)}));

  // Purging to the file being written keeps that file.
  report = Retention::purge(*store_, PurgeRequest::to(name(4)));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(3)}));
  report = Retention::purge(*store_, PurgeRequest::to(name(4)));
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->purged_files.empty());
}

TEST_F(RetentionTest, PurgeBeforeATimeUsesTheLastWriteTime) {
  auto report = Retention::purge(*store_, PurgeRequest::before(3000));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(1), name(2)}));
  report = Retention::purge(*store_, PurgeRequest::before(999'999));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(3)}));
}

TEST_F(RetentionTest, PurgedTransactionsAreGoneAndTheRestStillReadsAfterReopen) {
  auto report = Retention::purge(*store_, PurgeRequest::to(name(3)));
  ASSERT_TRUE(report);
  {
    auto reader = StoreReader::open(*store_);
    ASSERT_TRUE(reader);
    EXPECT_FALSE(reader->seek_gtid(testing::gtid_key(first_gtid_[1])));
    EXPECT_FALSE(reader->seek_gtid(testing::gtid_key(first_gtid_[3] - 1)));
    ASSERT_TRUE(reader->seek_gtid(testing::gtid_key(first_gtid_[3])));
    EXPECT_EQ(reader->file().name, name(3));
    EXPECT_FALSE(reader->seek(name(1), 4));
  }
  // The writer goes on, and a reopened store holds exactly files 3 and 4 plus the new data.
  WriteBatch batch;
  stream_.transaction(batch, 3, 100);
  ASSERT_TRUE(writer_->submit(std::move(batch)));
  ASSERT_TRUE(log_.wait_durable(stream_.current_file(), stream_.next_position()));
  ASSERT_TRUE(writer_->stop());
  writer_.reset();
  store_.reset();
  auto store = BinlogStore::open(dir_->file("data"));
  ASSERT_TRUE(store);
  auto events = testing::read_everything(**store);
  ASSERT_TRUE(events);
  std::vector<testing::StoredEvent> expected;
  for (const auto& e : stream_.events()) {
    if (e.file >= name(3)) expected.push_back(e);
  }
  EXPECT_EQ(testing::compare_events(*events, expected), "");
  auto purged = (*store)->purged_gtid_set();
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, TestStream::previous_gtids_for(first_gtid_[3]));
}

TEST_F(RetentionTest, ThePurgeRequestRunsOnTheWriterThread) {
  std::mutex mutex;
  std::condition_variable done;
  std::optional<Result<PurgeReport>> result;
  writer_->request_purge(PurgeRequest::to(name(2)), [&](Result<PurgeReport> report) {
    std::lock_guard lock(mutex);
    result = std::move(report);
    done.notify_all();
  });
  std::unique_lock lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, std::chrono::seconds(20), [&] { return result.has_value(); }));
  ASSERT_TRUE(*result);
  EXPECT_EQ((*result)->purged_files, (std::vector<std::string>{name(1)}));
}

// [storage] protect_replicas with replica_grace: a remembered replica keeps the file its stream
// continues in (and everything after it) while it was last seen within the grace, connected or not.
ReplicaRecord remembered(std::uint32_t server_id, const std::string& file, std::int64_t last_seen) {
  ReplicaRecord record;
  record.server_id = server_id;
  record.account = "repl";
  record.host = "10.0.0.7:40000";
  record.file = file;
  record.position = 4;
  record.first_seen = last_seen;
  record.last_seen = last_seen;
  return record;
}

TEST_F(RetentionTest, ARememberedReplicaKeepsWhatItNeedsUntilItsGraceEnds) {
  ASSERT_TRUE(
      store_->update_replica_records({remembered(7, name(2), 5000), remembered(9, name(3), 4000)}, {}));
  RetentionPolicy policy;
  policy.max_total_bytes = 1;  // everything but the newest file is over the limit
  PurgeRequest request = PurgeRequest::by_policy(policy);
  request.protect_replicas_seen_since = 4500;  // replica 9 (last seen 4000) is past its grace
  auto report = Retention::purge(*store_, request);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(1)}));
  EXPECT_EQ(report->kept_for_replica, std::optional<std::uint32_t>(7));
  EXPECT_EQ(report->kept_for_replica_file, name(2));
  EXPECT_EQ(remaining(), (std::vector<std::string>{name(2), name(3), name(4)}));

  // Once replica 7's grace ends too, the size limit applies.
  request.protect_replicas_seen_since = 6000;
  report = Retention::purge(*store_, request);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(2), name(3)}));
  EXPECT_FALSE(report->kept_for_replica);
}

TEST_F(RetentionTest, WithoutReplicaProtectionRememberedReplicasKeepNothing) {
  ASSERT_TRUE(store_->update_replica_records({remembered(7, name(1), 5000)}, {}));
  RetentionPolicy policy;
  policy.max_total_bytes = 1;
  auto report = Retention::purge(*store_, PurgeRequest::by_policy(policy));  // the disk guard's request
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(1), name(2), name(3)}));
  EXPECT_FALSE(report->kept_for_replica);
}

TEST_F(RetentionTest, AnExplicitPurgeStopsAtARememberedReplicaAndForgettingItLetsItThrough) {
  ASSERT_TRUE(store_->update_replica_records({remembered(7, name(2), 5000)}, {}));
  PurgeRequest request = PurgeRequest::to(name(4));
  request.protect_replicas_seen_since = 0;
  auto report = Retention::purge(*store_, request);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(1)}));
  EXPECT_EQ(report->kept_for_replica, std::optional<std::uint32_t>(7));

  // FORGET REPLICA 7.
  ASSERT_TRUE(store_->update_replica_records({}, {7}));
  auto records = store_->replica_records();
  ASSERT_TRUE(records);
  EXPECT_TRUE(records->empty());
  report = Retention::purge(*store_, request);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->purged_files, (std::vector<std::string>{name(2), name(3)}));
}

TEST_F(RetentionTest, ADamagedReplicaRecordFailsAProtectedPurgeAndNamesTheFix) {
  ASSERT_TRUE(store_->update_replica_records({remembered(7, name(2), 5000)}, {}));
  {
    // Damage the record in place (a flipped version byte).
    auto txn = LmdbTxn::begin_write(store_->internals().env());
    ASSERT_TRUE(txn);
    ReplicaRecord record = remembered(7, name(2), 5000);
    Bytes value = record.encode();
    value[0] = 0x7f;
    ASSERT_TRUE(txn->put(*store_->internals().dbs().replicas, record.key(), value));
    ASSERT_TRUE(txn->commit());
  }
  RetentionPolicy policy;
  policy.max_total_bytes = 1;
  PurgeRequest request = PurgeRequest::by_policy(policy);
  request.protect_replicas_seen_since = 0;
  auto report = Retention::purge(*store_, request);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message().find("server_id 7 is damaged"), std::string::npos)
      << report.error().message();
  EXPECT_NE(report.error().message().find("FORGET REPLICA 7"), std::string::npos);
  EXPECT_EQ(remaining().size(), 4u);
  std::vector<BinlogStore::DamagedReplicaRecord> damaged;
  auto records = store_->replica_records(&damaged);
  ASSERT_TRUE(records);
  EXPECT_TRUE(records->empty());
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_EQ(damaged[0].server_id, std::optional<std::uint32_t>(7));
}

TEST_F(RetentionTest, AReplicaUpdateRequestedBeforeAPurgeIsWrittenBeforeItRuns) {
  std::mutex mutex;
  std::condition_variable done;
  std::optional<Result<PurgeReport>> result;
  StoreWriter::ReplicaUpdate update;
  update.records.push_back(remembered(7, name(2), 5000));
  writer_->request_replica_update(std::move(update), {});
  RetentionPolicy policy;
  policy.max_total_bytes = 1;
  PurgeRequest request = PurgeRequest::by_policy(policy);
  request.protect_replicas_seen_since = 0;
  writer_->request_purge(request, [&](Result<PurgeReport> report) {
    std::lock_guard lock(mutex);
    result = std::move(report);
    done.notify_all();
  });
  std::unique_lock lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, std::chrono::seconds(20), [&] { return result.has_value(); }));
  ASSERT_TRUE(*result);
  EXPECT_EQ((*result)->purged_files, (std::vector<std::string>{name(1)}));
}

}  // namespace
}  // namespace brelay::storage
