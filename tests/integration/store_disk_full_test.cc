// Disk-full test for the binlog store: the store lives on a small tmpfs that the test mounts (and
// unmounts, also on failure), next to a filler file. The writer runs into the full filesystem: it
// must report a clear error, lose or damage nothing it committed, keep readers working, and accept
// appends again by itself once the filler is removed. Needs root (mount); CI runs as root.
#include <gtest/gtest.h>

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "storage/binlog_store.h"
#include "storage/store_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/store_test_stream.h"

namespace brelay::testing {
namespace {

using storage::BinlogStore;

// A size-limited tmpfs mounted on a directory for the test's lifetime.
class TmpfsMount {
 public:
  static Result<TmpfsMount> create(const std::string& path, std::uint64_t bytes) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return make_error("creating {}: {}", path, ec.message());
    const std::string options = fmt::format("size={},mode=0700", bytes);
    if (mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      return make_error("mounting a {}-byte tmpfs on {}: {}", bytes, path, std::strerror(errno));
    }
    return TmpfsMount(path);
  }
  TmpfsMount(TmpfsMount&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TmpfsMount& operator=(TmpfsMount&&) = delete;
  ~TmpfsMount() {
    if (!path_.empty()) umount2(path_.c_str(), MNT_DETACH);
  }

 private:
  explicit TmpfsMount(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Status write_filler(const std::string& path, std::uint64_t bytes) {
  std::ofstream out(path, std::ios::binary);
  const std::string chunk(1 << 20, 'f');
  for (std::uint64_t written = 0; written < bytes; written += chunk.size())
    out.write(chunk.data(),
              static_cast<std::streamsize>(std::min<std::uint64_t>(chunk.size(), bytes - written)));
  out.flush();
  if (!out) return make_error("writing the filler file {}", path);
  return {};
}

std::vector<StoredEvent> durable_part(const TestStream& stream, const storage::ResumePoint& end) {
  std::vector<StoredEvent> part;
  for (const StoredEvent& e : stream.events()) {
    if (e.file < end.file || (e.file == end.file && e.position < end.position)) part.push_back(e);
  }
  return part;
}

TEST(StoreDiskFull, WriterStopsWithAClearErrorKeepsCommittedDataAndResumesWhenSpaceIsFreed) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root (CI runs the tests as root)";
  auto dir = TempDir::create("store-disk-full");
  ASSERT_TRUE(dir);
  auto mounted = TmpfsMount::create(dir->file("fs"), 24 << 20);
  ASSERT_TRUE(mounted) << mounted.error().message();
  const std::string data = dir->file("fs/data");
  const std::string filler = dir->file("fs/filler");
  ASSERT_TRUE(write_filler(filler, 14 << 20));

  TestStream stream;
  {
    auto store = BinlogStore::open(data);
    ASSERT_TRUE(store) << store.error().message();
    ProgressLog log;
    storage::StoreWriter::Options options;
    options.retry_interval = std::chrono::milliseconds(20);
    options.resume_free_bytes = 4 << 20;
    auto writer = storage::StoreWriter::start(**store, options, log.callback());
    ASSERT_TRUE(writer);

    bool stopped = false;
    for (int b = 0; b < 400 && !stopped; ++b) {
      WriteBatch batch;
      if (b == 0) stream.begin_file(batch);
      for (int i = 0; i < 16; ++i)
        stream.transaction(batch, 4, 4000);
      if (!(*writer)->submit(std::move(batch))) break;
      ASSERT_TRUE(log.wait_until([&](const storage::StoreWriter::Progress& p) {
        return !p.accepting || (p.durable_end && p.durable_end->position == stream.next_position());
      }));
      stopped = !log.latest().accepting;
    }
    ASSERT_TRUE(stopped) << "24 MiB of tmpfs never filled";
    const storage::StoreWriter::Progress failed = log.latest();
    ASSERT_TRUE(failed.error);
    std::printf("the writer reported: %s\n", failed.error->message().c_str());
    EXPECT_TRUE(failed.error->code() == ENOSPC || failed.error->code() == EIO ||
                failed.error->code() == MDB_MAP_FULL)
        << failed.error->message();
    EXPECT_NE(failed.error->message().find("the filesystem of " + data + " is full"), std::string::npos)
        << failed.error->message();
    EXPECT_NE(failed.error->message().find("readers keep working"), std::string::npos);
    WriteBatch refused;
    stream.transaction(refused, 1, 10);
    auto rejected = (*writer)->submit(std::move(refused));
    ASSERT_FALSE(rejected);
    EXPECT_NE(rejected.error().message().find("does not accept events"), std::string::npos);

    // Everything durable before the failure reads back intact while the disk is full.
    const auto end = (*store)->durable_end();
    ASSERT_TRUE(end);
    EXPECT_EQ(failed.durable_end, end);
    auto events = read_everything(**store);
    ASSERT_TRUE(events) << events.error().message();
    EXPECT_EQ(compare_events(*events, durable_part(stream, *end)), "");
    EXPECT_GT(events->size(), 100u);

    // Free space: the writer resumes by itself, from the durable end.
    ASSERT_TRUE(std::filesystem::remove(filler));
    ASSERT_TRUE(log.wait_until([](const storage::StoreWriter::Progress& p) { return p.accepting; }));
    const storage::StoreWriter::Progress resumed = log.latest();
    EXPECT_EQ(resumed.restarts, 1u);
    EXPECT_FALSE(resumed.error);
    ASSERT_EQ(resumed.durable_end, end);
    stream.rewind_to(end->position);
    WriteBatch more;
    for (int i = 0; i < 50; ++i)
      stream.transaction(more, 4, 4000);
    ASSERT_TRUE((*writer)->submit(std::move(more)));
    ASSERT_TRUE(log.wait_durable(stream.current_file(), stream.next_position()));
    ASSERT_TRUE((*writer)->stop());
  }
  // And the store reopens with all of it.
  auto store = BinlogStore::open(data);
  ASSERT_TRUE(store) << store.error().message();
  auto events = read_everything(**store);
  ASSERT_TRUE(events) << events.error().message();
  EXPECT_EQ(compare_events(*events, stream.events()), "");
}

}  // namespace
}  // namespace brelay::testing
