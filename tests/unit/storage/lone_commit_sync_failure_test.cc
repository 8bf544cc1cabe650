// A lone round whose fdatasync fails was never acknowledged, so it must never be indexed: not when
// the writer resumes after the error, not when the store is opened again. Linux may report the next
// fdatasync of the file clean although the failed pages never reached the disk, so a replay of the
// round from its commit record (still in the page cache) would index bytes that may be lost.
//
// This binary interposes fdatasync(2): while `fail_event_file_syncs` is set, a sync of an event
// file (a descriptor whose path ends in ".events") fails with EIO. It is its own executable so that
// no other test shares the interposed call.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <string>

#include "storage/binlog_store.h"
#include "storage/store_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/encrypted_store_support.h"
#include "tests/unit/storage/store_test_stream.h"

namespace {

std::atomic<bool> fail_event_file_syncs{false};
std::atomic<int> failed_syncs{0};

bool is_event_file(int fd) {
  char path[512];
  const ssize_t size = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), path, sizeof path - 1);
  if (size <= 0) return false;
  return std::string(path, static_cast<std::size_t>(size)).ends_with(".events");
}

}  // namespace

extern "C" int fdatasync(int fd) {
  if (fail_event_file_syncs.load() && is_event_file(fd)) {
    failed_syncs.fetch_add(1);
    errno = EIO;
    return -1;
  }
  using Sync = int (*)(int);
  static const auto real = reinterpret_cast<Sync>(::dlsym(RTLD_NEXT, "fdatasync"));
  return real(fd);
}

namespace brelay::storage {
namespace {

using testing::ProgressLog;
using testing::TestStream;

class LoneCommitSyncFailure : public ::testing::TestWithParam<bool> {};

TEST_P(LoneCommitSyncFailure, ARoundWhoseSyncFailedIsNeverIndexed) {
  auto dir = testing::TempDir::create("lone-sync-failure");
  ASSERT_TRUE(dir);
  const std::string data = dir->file("data");
  const std::string event_file = data + "/events/0000000001.events";
  StoreOptions options;
  if (GetParam()) options.master_keys = testing::keys_with({1});
  TestStream stream;
  std::uint64_t acknowledged = 0;
  {
    auto store = BinlogStore::open(data, options);
    ASSERT_TRUE(store) << store.error().message();
    ProgressLog log;
    StoreWriter::Options writer_options;
    writer_options.retry_interval = std::chrono::milliseconds(20);
    writer_options.resume_free_bytes = 0;
    auto writer = StoreWriter::start(**store, writer_options, log.callback());
    ASSERT_TRUE(writer);
    ASSERT_TRUE(testing::write_first_transaction(**writer, log, stream));
    acknowledged = stream.next_position();
    // A lone round: written, its sync fails.
    failed_syncs = 0;
    fail_event_file_syncs = true;
    WriteBatch lone;
    stream.transaction(lone, 3, 150);
    ASSERT_TRUE((*writer)->submit(std::move(lone)));
    ASSERT_TRUE(log.wait_until([](const StoreWriter::Progress& progress) { return !progress.accepting; }));
    fail_event_file_syncs = false;
    EXPECT_EQ(failed_syncs.load(), 1);
    // The writer resumes on its own, from what was acknowledged.
    ASSERT_TRUE(log.wait_until(
        [](const StoreWriter::Progress& progress) { return progress.accepting && progress.restarts == 1; }));
    const StoreWriter::Progress resumed = log.latest();
    ASSERT_TRUE(resumed.durable_end);
    EXPECT_EQ(resumed.durable_end->position, acknowledged);
    EXPECT_FALSE(resumed.synced_end && resumed.synced_end->position > acknowledged);
    EXPECT_EQ((*store)->durable_end()->position, acknowledged);
    EXPECT_EQ(std::filesystem::file_size(event_file), acknowledged) << "the round and its record are cut";
    ASSERT_TRUE((*writer)->stop());
  }
  auto store = BinlogStore::open(data, options);
  ASSERT_TRUE(store) << store.error().message();
  ASSERT_TRUE((*store)->durable_end());
  EXPECT_EQ((*store)->durable_end()->position, acknowledged);
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, LoneCommitSyncFailure, ::testing::Bool(),
                         [](const auto& test) { return test.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace brelay::storage
