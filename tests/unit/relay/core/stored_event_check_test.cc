// verify_stored_event reads an event's mapped bytes first, inside read_guarded: an event file cut
// short under its map is a damage error, with or without checksums, never a SIGBUS.
#include "relay/core/stored_event_check.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "storage/binlog_store.h"
#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

class StoredEventCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::create("stored-event-check");
    ASSERT_TRUE(dir);
    dir_ = std::move(*dir);
    auto store = storage::BinlogStore::open(dir_->file("store"));
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
    path_ = dir_->file("cut.events");
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
    ASSERT_EQ(::ftruncate(fd_, static_cast<off_t>(kSize)), 0);
    map_ = ::mmap(nullptr, kSize, PROT_READ, MAP_SHARED, fd_, 0);
    ASSERT_NE(map_, MAP_FAILED);
  }
  void TearDown() override {
    if (map_ != nullptr && map_ != MAP_FAILED) ::munmap(map_, kSize);
    if (fd_ >= 0) ::close(fd_);
  }
  ByteView event() const { return {static_cast<const std::uint8_t*>(map_) + 4, kSize - 4}; }

  static constexpr std::size_t kSize = 3 * 4096;
  std::optional<testing::TempDir> dir_;
  std::unique_ptr<storage::BinlogStore> store_;
  std::string path_;
  int fd_ = -1;
  void* map_ = nullptr;
};

TEST_F(StoredEventCheck, AnEventOfAFileWithoutChecksumsCutShortUnderItsMapIsDamage) {
  EXPECT_TRUE(verify_stored_event(*store_, "mysql-bin.000001", 4, event(), binlog::ChecksumAlgorithm::kOff));
  ASSERT_EQ(::ftruncate(fd_, 4096), 0);
  const Status status =
      verify_stored_event(*store_, "mysql-bin.000001", 4, event(), binlog::ChecksumAlgorithm::kOff);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message().find("can no longer be read"), std::string::npos)
      << status.error().message();
  EXPECT_EQ(store_->damage().events, 1u);
}

TEST_F(StoredEventCheck, AnEventWithAChecksumCutShortUnderItsMapIsDamage) {
  ASSERT_EQ(::ftruncate(fd_, 4096), 0);
  const Status status =
      verify_stored_event(*store_, "mysql-bin.000001", 4, event(), binlog::ChecksumAlgorithm::kCrc32);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message().find("can no longer be read"), std::string::npos)
      << status.error().message();
}

}  // namespace
}  // namespace brelay::relay
