// check_lmdb_pages against crafted damaged data files: each ends in a damage message, never a signal,
// a walk down a tree that cannot be there, or an allocation sized by a number read from the file.
#include "storage/lmdb_page_check.h"

#include <gtest/gtest.h>
#include <lmdb.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "storage/lmdb_env.h"
#include "tests/support/temp_dir.h"

namespace brelay::storage {
namespace {

constexpr std::size_t kMetaTxnid = 144;
constexpr std::size_t kMetaLastPage = 136;
constexpr std::size_t kMetaFreeRoot = 40 + 40;

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_at(const std::string& path, std::uint64_t offset, const void* data, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, data, size, static_cast<off_t>(offset)), static_cast<ssize_t>(size));
  ::close(fd);
}

template <typename T>
void write_value(const std::string& path, std::uint64_t offset, T value) {
  write_at(path, offset, &value, sizeof(value));
}

template <typename T>
T value_at(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof(value));
  return value;
}

// Puts `records` (database name, key, value) in one write transaction each round.
void fill(const std::string& dir, const std::vector<std::vector<std::string>>& rounds) {
  auto env = LmdbEnv::open(dir, {});
  ASSERT_TRUE(env) << env.error().message();
  for (const auto& round : rounds) {
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env->raw(), nullptr, 0, &txn), 0);
    for (std::size_t i = 0; i + 2 < round.size(); i += 3) {
      MDB_dbi dbi = 0;
      ASSERT_EQ(mdb_dbi_open(txn, round[i].c_str(), MDB_CREATE, &dbi), 0);
      MDB_val key{round[i + 1].size(), const_cast<char*>(round[i + 1].data())};
      MDB_val value{round[i + 2].size(), const_cast<char*>(round[i + 2].data())};
      if (round[i + 2].empty()) {
        ASSERT_EQ(mdb_del(txn, dbi, &key, nullptr), 0);
      } else {
        ASSERT_EQ(mdb_put(txn, dbi, &key, &value, 0), 0);
      }
    }
    ASSERT_EQ(mdb_txn_commit(txn), 0);
  }
}

// The offset of the meta page the last commit wrote.
std::size_t current_meta(const std::vector<std::uint8_t>& file, std::size_t page_size) {
  return value_at<std::uint64_t>(file, page_size + kMetaTxnid) > value_at<std::uint64_t>(file, kMetaTxnid)
             ? page_size
             : 0;
}

Result<PageCheckReport> check(const std::string& dir) {
  auto env = LmdbEnv::open(dir, {});
  if (!env) return env.error();
  return check_lmdb_pages(*env, dir);
}

// Runs check() in a child whose address space may grow by at most 64 MiB past what the open
// environment maps: it exits 0 when the check answers (accepted, or a damage message), 2 on any
// other error; an allocation sized by the file aborts it.
void check_in_small_address_space(const std::string& dir) {
  auto env = LmdbEnv::open(dir, {});
  if (!env) std::_Exit(3);
  long pages = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
    std::fclose(statm);
  }
  if (pages == 0) std::_Exit(4);
  const rlim_t limit =
      static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (64u << 20);
  const rlimit cap{limit, limit};
  if (::setrlimit(RLIMIT_AS, &cap) != 0) std::_Exit(5);
  auto report = check_lmdb_pages(*env, dir);
  if (report) std::_Exit(0);
  std::fprintf(stderr, "%s\n", report.error().message().c_str());
  std::_Exit(report.error().code() == MDB_CORRUPTED ? 0 : 2);
}

TEST(LmdbPageCheck, AnIntactStoreIsAccepted) {
  auto dir = testing::TempDir::create("page-check");
  ASSERT_TRUE(dir);
  fill(dir->path(), {{"events", "k1", "v1", "files", "f", std::string(5000, 'x')}});
  auto report = check(dir->path());
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_GE(report->pages, 3u);
}

// A database record (F_SUBDATA) is the main tree's alone: in a named database's leaf it is damage,
// not a tree to walk (here one whose root is "no page", which the walk would take as empty).
TEST(LmdbPageCheck, ADatabaseRecordInsideANamedDatabaseIsDamage) {
  auto dir = testing::TempDir::create("page-check");
  ASSERT_TRUE(dir);
  const std::string marker = "nested-database-marker";
  fill(dir->path(), {{"events", marker, std::string(48, '\xff')}});
  const std::string data = dir->file("data.mdb");
  const std::vector<std::uint8_t> file = read_file(data);
  const auto at = std::search(file.begin(), file.end(), marker.begin(), marker.end());
  ASSERT_NE(at, file.end());
  const auto key = static_cast<std::size_t>(at - file.begin());
  ASSERT_EQ(value_at<std::uint16_t>(file, key - 2), marker.size());
  ASSERT_EQ(value_at<std::uint16_t>(file, key - 4), 0u);
  write_value<std::uint16_t>(data, key - 4, 0x02);  // F_SUBDATA

  auto report = check(dir->path());
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code(), MDB_CORRUPTED);
  EXPECT_NE(report.error().message().find("database record outside the main tree"), std::string::npos)
      << report.error().message();
  EXPECT_NE(report.error().message().find("'events' database"), std::string::npos)
      << report.error().message();
}

// A meta page naming 2^31 pages in a sparse file of that size: the walk reads the few pages the
// trees reach and sets aside memory for those, not a bit per page named.
TEST(LmdbPageCheck, AHugeLastPageInASparseFileAllocatesNothingByIt) {
  auto dir = testing::TempDir::create("page-check");
  ASSERT_TRUE(dir);
  fill(dir->path(), {{"events", "k1", "v1"}});
  const std::string data = dir->file("data.mdb");
  const std::size_t page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t meta = current_meta(read_file(data), page_size);
  const std::uint64_t last_page = (std::uint64_t{1} << 31) - 1;
  write_value<std::uint64_t>(data, meta + kMetaLastPage, last_page);
  if (::truncate(data.c_str(), static_cast<off_t>((last_page + 1) * page_size)) != 0)
    GTEST_SKIP() << "this file system has no sparse files of 8 TiB";
  EXPECT_EXIT(check_in_small_address_space(dir->path()), ::testing::ExitedWithCode(0), "");
}

// A free-list record that claims 4 GiB of page numbers in an overflow run (in a sparse file long
// enough to hold it): read a batch at a time, it is damage at its first page number.
TEST(LmdbPageCheck, AFreeListOverflowRunOfGigabytesIsReadABatchAtATime) {
  auto dir = testing::TempDir::create("page-check");
  ASSERT_TRUE(dir);
  std::vector<std::string> puts;
  std::vector<std::string> deletes;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "key" + std::to_string(1000 + i);
    puts.insert(puts.end(), {"events", key, std::string(200, 'v')});
    deletes.insert(deletes.end(), {"events", key, ""});
  }
  fill(dir->path(), {puts, deletes, {"events", "k", "v"}});
  const std::string data = dir->file("data.mdb");
  const std::size_t page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<std::uint8_t> file = read_file(data);
  const std::size_t meta = current_meta(file, page_size);
  const auto free_root = value_at<std::uint64_t>(file, meta + kMetaFreeRoot);
  ASSERT_NE(free_root, ~std::uint64_t{0}) << "the free list is empty";
  ASSERT_EQ(value_at<std::uint16_t>(file, meta + 40 + 6), 1u) << "the free list is deeper than one leaf";
  const std::size_t leaf = free_root * page_size;
  ASSERT_EQ(value_at<std::uint16_t>(file, leaf + 10) & 0x02, 0x02);
  const std::size_t node = leaf + value_at<std::uint16_t>(file, leaf + 16);

  const std::uint64_t first = value_at<std::uint64_t>(file, meta + kMetaLastPage) + 1;
  const std::uint64_t size = 0xFFFFFFFF;
  const std::uint64_t needed = (16 - 1 + size) / page_size + 1;
  write_value<std::uint16_t>(data, node, 0xFFFF);      // value size, low half
  write_value<std::uint16_t>(data, node + 2, 0xFFFF);  // and high half
  write_value<std::uint16_t>(data, node + 4, 0x01);    // F_BIGDATA
  write_value<std::uint64_t>(data, node + 8 + value_at<std::uint16_t>(file, node + 6), first);
  write_value<std::uint64_t>(data, first * page_size, first);      // the run's page number
  write_value<std::uint16_t>(data, first * page_size + 10, 0x04);  // P_OVERFLOW
  write_value<std::uint32_t>(data, first * page_size + 12, static_cast<std::uint32_t>(needed));
  write_value<std::uint64_t>(data, first * page_size + 16, (size - 8) / 8);  // page numbers: all 0
  write_value<std::uint64_t>(data, meta + kMetaLastPage, first + needed - 1);
  ASSERT_EQ(::truncate(data.c_str(), static_cast<off_t>((first + needed) * page_size)), 0);

  EXPECT_EXIT(check_in_small_address_space(dir->path()), ::testing::ExitedWithCode(0),
              "lists page 0 as free, not in use");
}

}  // namespace
}  // namespace brelay::storage
