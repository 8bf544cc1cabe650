#include "storage/lmdb_page_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/lmdb_txn.h"

namespace brelay::storage {
namespace {

static_assert(MDB_VERSION_MAJOR == 0 && MDB_VERSION_MINOR == 9,
              "lmdb_page_check reads LMDB 0.9's on-disk format: check it against this LMDB release");
static_assert(sizeof(std::size_t) == 8, "lmdb_page_check reads the 64-bit layout (pgno_t of 8 bytes)");

// LMDB 0.9's layout (mdb.c): a 16-byte page header (pgno u64, pad u16, flags u16, lower u16 and
// upper u16, or the overflow page count u32), then node offsets (u16) from the header on, nodes
// from `upper` to the page's end: lo u16, hi u16, flags u16, key size u16, key, data.
constexpr std::size_t kPageHeader = 16;
constexpr std::size_t kNodeHeader = 8;
constexpr std::uint16_t kBranch = 0x01;
constexpr std::uint16_t kLeaf = 0x02;
constexpr std::uint16_t kOverflow = 0x04;
constexpr std::uint16_t kMeta = 0x08;
constexpr std::uint16_t kKindMask = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40;  // LEAF2 0x20, SUBP 0x40
constexpr std::uint16_t kBigData = 0x01;
constexpr std::uint16_t kSubData = 0x02;
constexpr std::uint16_t kDupData = 0x04;
constexpr std::uint32_t kMagic = 0xBEEFC0DE;
constexpr std::uint32_t kDataVersion = 1;
constexpr std::uint64_t kInvalidPage = ~std::uint64_t{0};
constexpr std::uint64_t kMetaPages = 2;
constexpr std::size_t kDbRecordSize = 48;  // MDB_db
constexpr int kMaxDepth = 32;              // LMDB's cursor stack
// Pages per chunk of the set of pages reached, and page-list entries read at once from an overflow
// run: memory follows the pages actually read, never a page count the file names.
constexpr std::uint64_t kSeenChunkPages = 4096;
constexpr std::uint64_t kPageListBatch = 8192;

// Which tree a page belongs to: only the main tree holds database records (F_SUBDATA), only the
// free list holds page lists.
enum class Tree { kFreeList, kMain, kNamed };

std::uint16_t u16(const std::uint8_t* at) {
  std::uint16_t value = 0;
  std::memcpy(&value, at, sizeof(value));
  return value;
}
std::uint32_t u32(const std::uint8_t* at) {
  std::uint32_t value = 0;
  std::memcpy(&value, at, sizeof(value));
  return value;
}
std::uint64_t u64(const std::uint8_t* at) {
  std::uint64_t value = 0;
  std::memcpy(&value, at, sizeof(value));
  return value;
}

struct DbRecord {
  std::uint16_t depth = 0;
  std::uint64_t root = kInvalidPage;
};

DbRecord db_record(const std::uint8_t* at) {
  return DbRecord{u16(at + 6), u64(at + 40)};
}

// The pages reached so far, in chunks allocated as pages in them are reached.
class PageSet {
 public:
  // False when `page` was already in the set.
  bool insert(std::uint64_t page) {
    std::vector<bool>& chunk = chunks_[page / kSeenChunkPages];
    if (chunk.empty()) chunk.resize(kSeenChunkPages, false);
    if (chunk[page % kSeenChunkPages]) return false;
    chunk[page % kSeenChunkPages] = true;
    return true;
  }

 private:
  std::unordered_map<std::uint64_t, std::vector<bool>> chunks_;
};

class PageChecker {
 public:
  PageChecker(int fd, std::string path, std::size_t page_size)
      : fd_(fd), path_(std::move(path)), page_size_(page_size) {}

  // nullopt: neither meta page describes `txnid` any more (a writer committed twice since).
  Result<std::optional<PageCheckReport>> check(std::uint64_t txnid);

 private:
  Error damaged(std::uint64_t page, std::string_view what) const {
    return make_error_code(MDB_CORRUPTED, "the store's index {} is damaged: page {} ({}) {}; {}", path_, page,
                           database_, what, damaged_index_advice());
  }
  Status read(std::uint64_t page, std::size_t pages, std::vector<std::uint8_t>& out) const {
    return read_at(page, page * page_size_, pages * page_size_, out);
  }
  // `length` bytes from `offset`, which lie in `page` or the overflow run starting there.
  Status read_at(std::uint64_t page, std::uint64_t offset, std::size_t length,
                 std::vector<std::uint8_t>& out) const;
  Status check_tree(const DbRecord& db, std::string_view name, Tree tree);
  Status check_page(std::uint64_t page, int depth, const DbRecord& db, Tree tree);
  Status check_leaf_node(std::uint64_t page, const std::uint8_t* node, std::size_t room, Tree tree);
  Status check_overflow(std::uint64_t page, std::uint64_t first, std::uint64_t size, Tree tree);
  Status check_page_list(std::uint64_t page, const std::uint8_t* data, std::uint64_t size) const;
  Status check_overflow_page_list(std::uint64_t first, std::uint64_t size) const;
  Status check_listed_pages(std::uint64_t page, const std::uint8_t* ids, std::uint64_t count) const;
  bool in_use(std::uint64_t page) const { return page >= kMetaPages && page <= last_page_; }

  int fd_;
  std::string path_;
  std::size_t page_size_;
  std::uint64_t last_page_ = 0;
  PageSet seen_;
  std::string database_;
  std::uint64_t pages_ = 0;
};

Status PageChecker::read_at(std::uint64_t page, std::uint64_t offset, std::size_t length,
                            std::vector<std::uint8_t>& out) const {
  out.resize(length);
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error_code(errno, "reading {}: {}", path_, std::strerror(errno));
    if (n == 0) return damaged(page, "lies beyond the end of the file");
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::optional<PageCheckReport>> PageChecker::check(std::uint64_t txnid) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return make_error_code(errno, "reading the size of {}", path_);
  const std::uint8_t* chosen = nullptr;
  bool any_valid = false;
  std::vector<std::uint8_t> metas[kMetaPages];
  for (std::uint64_t i = 0; i < kMetaPages; ++i) {
    BRELAY_TRY(read(i, 1, metas[i]));
    const std::uint8_t* m = metas[i].data();
    const bool valid = (u16(m + 10) & kMeta) != 0 && u32(m + 16) == kMagic && u32(m + 20) == kDataVersion;
    any_valid = any_valid || valid;
    if (valid && u64(m + 144) == txnid) chosen = m;
  }
  database_ = "meta";
  if (chosen == nullptr) {
    if (any_valid) return std::optional<PageCheckReport>();
    return damaged(0, "is not an LMDB meta page");
  }
  last_page_ = u64(chosen + 136);
  // Every page the walk may reach is below last_page_, which must lie in the file: a damaged
  // meta page naming more pages than the file holds is refused before anything is read.
  const auto file_pages = static_cast<std::uint64_t>(st.st_size) / page_size_;
  if (last_page_ < kMetaPages - 1 || last_page_ >= file_pages) {
    return damaged(0, fmt::format("names {} as the last page in use but the file holds {} pages", last_page_,
                                  file_pages));
  }
  if (u32(chosen + 40) != page_size_) {
    return damaged(0,
                   fmt::format("says its pages have {} bytes, LMDB uses {}", u32(chosen + 40), page_size_));
  }
  BRELAY_TRY(check_tree(db_record(chosen + 40), "free list", Tree::kFreeList));
  BRELAY_TRY(check_tree(db_record(chosen + 88), "main", Tree::kMain));
  return std::optional<PageCheckReport>(PageCheckReport{pages_, txnid});
}

Status PageChecker::check_tree(const DbRecord& db, std::string_view name, Tree tree) {
  if (db.root == kInvalidPage) return {};
  database_ = fmt::format("'{}' database", name);
  if (!in_use(db.root))
    return damaged(db.root, fmt::format("is the root, outside the pages in use (2 to {})", last_page_));
  if (db.depth < 1 || db.depth > kMaxDepth) return damaged(db.root, fmt::format("has depth {}", db.depth));
  return check_page(db.root, 1, db, tree);
}

Status PageChecker::check_page(std::uint64_t page, int depth, const DbRecord& db, Tree tree) {
  if (!seen_.insert(page)) return damaged(page, "is reached twice");
  ++pages_;
  std::vector<std::uint8_t> bytes;
  BRELAY_TRY(read(page, 1, bytes));
  const std::uint8_t* p = bytes.data();
  if (u64(p) != page) return damaged(page, fmt::format("carries the page number {}", u64(p)));
  const std::uint16_t kind = u16(p + 10) & kKindMask;
  const bool leaf = depth == db.depth;
  if (kind != (leaf ? kLeaf : kBranch)) {
    return damaged(page, fmt::format("has flags {:#x} where the tree of depth {} needs a {} page",
                                     u16(p + 10), db.depth, leaf ? "leaf" : "branch"));
  }
  const std::size_t lower = u16(p + 12);
  const std::size_t upper = u16(p + 14);
  if (lower < kPageHeader || lower % 2 != 0 || lower > upper || upper > page_size_)
    return damaged(page, fmt::format("has free space bounds {} to {}", lower, upper));
  const std::size_t count = (lower - kPageHeader) / 2;
  if (count == 0 && !leaf) return damaged(page, "is a branch page without children");
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t offset = u16(p + kPageHeader + 2 * i);
    if (offset < upper || offset + kNodeHeader > page_size_)
      return damaged(page, fmt::format("places node {} at offset {}", i, offset));
    const std::uint8_t* node = p + offset;
    const std::size_t room = page_size_ - offset - kNodeHeader;
    if (u16(node + 6) > room)
      return damaged(page, fmt::format("gives node {} a key of {} bytes", i, u16(node + 6)));
    if (leaf) {
      BRELAY_TRY(check_leaf_node(page, node, room, tree));
      continue;
    }
    const std::uint64_t child =
        std::uint64_t{u16(node)} | std::uint64_t{u16(node + 2)} << 16 | std::uint64_t{u16(node + 4)} << 32;
    if (!in_use(child)) return damaged(page, fmt::format("points to page {}, not in use", child));
    BRELAY_TRY(check_page(child, depth + 1, db, tree));
  }
  return {};
}

Status PageChecker::check_leaf_node(std::uint64_t page, const std::uint8_t* node, std::size_t room,
                                    Tree tree) {
  const std::uint16_t flags = u16(node + 4);
  const std::size_t key_size = u16(node + 6);
  const std::uint64_t data_size = std::uint64_t{u16(node)} | std::uint64_t{u16(node + 2)} << 16;
  const std::uint8_t* data = node + kNodeHeader + key_size;
  room -= key_size;
  if ((flags & kDupData) != 0)
    return damaged(page, "holds sorted duplicates, which a binlog-relay store never writes");
  if ((flags & kBigData) != 0) {
    if (room < 8) return damaged(page, "has an overflow node cut by the page's end");
    return check_overflow(page, u64(data), data_size, tree);
  }
  if (data_size > room)
    return damaged(page, fmt::format("has a value of {} bytes past the page's end", data_size));
  if ((flags & kSubData) != 0) {
    // Database records live in the main tree alone (a store never nests databases): one elsewhere
    // would let a damaged file send the walk down trees within trees.
    if (tree != Tree::kMain) return damaged(page, "has a database record outside the main tree");
    if (data_size != kDbRecordSize) return damaged(page, "has a malformed database record");
    const std::string saved = database_;
    BRELAY_TRY(check_tree(db_record(data),
                          std::string_view(reinterpret_cast<const char*>(node + kNodeHeader), key_size),
                          Tree::kNamed));
    database_ = saved;
    return {};
  }
  if (tree == Tree::kFreeList) return check_page_list(page, data, data_size);
  return {};
}

Status PageChecker::check_overflow(std::uint64_t page, std::uint64_t first, std::uint64_t size, Tree tree) {
  const std::uint64_t needed = (kPageHeader - 1 + size) / page_size_ + 1;
  if (!in_use(first) || needed > last_page_ - first + 1)
    return damaged(page, fmt::format("points to {} overflow pages from page {}, not in use", needed, first));
  // Its header first: a run that is not one is refused before its pages are counted or read.
  std::vector<std::uint8_t> bytes;
  BRELAY_TRY(read(first, 1, bytes));
  const std::uint8_t* p = bytes.data();
  if (u64(p) != first) return damaged(first, fmt::format("carries the page number {}", u64(p)));
  if ((u16(p + 10) & kKindMask) != kOverflow || u32(p + 12) < needed)
    return damaged(first, fmt::format("is not the start of {} overflow pages", needed));
  for (std::uint64_t i = first; i < first + needed; ++i) {
    if (!seen_.insert(i)) return damaged(i, "is reached twice");
  }
  ++pages_;
  if (tree == Tree::kFreeList) return check_overflow_page_list(first, size);
  return {};
}

// A free-list value in an overflow run, read a batch of page numbers at a time (a run may span
// many pages; nothing it claims is read at once).
Status PageChecker::check_overflow_page_list(std::uint64_t first, std::uint64_t size) const {
  if (size < 8) return damaged(first, "has a free-page list too short for its count");
  const std::uint64_t start = first * page_size_ + kPageHeader;
  std::vector<std::uint8_t> bytes;
  BRELAY_TRY(read_at(first, start, 8, bytes));
  const std::uint64_t count = u64(bytes.data());
  if (count > (size - 8) / 8)
    return damaged(first, fmt::format("has a free-page list of {} pages in {} bytes", count, size));
  for (std::uint64_t done = 0; done < count;) {
    const std::uint64_t batch = std::min(count - done, kPageListBatch);
    BRELAY_TRY(read_at(first, start + 8 + 8 * done, static_cast<std::size_t>(8 * batch), bytes));
    BRELAY_TRY(check_listed_pages(first, bytes.data(), batch));
    done += batch;
  }
  return {};
}

// A free-list value: a count, then that many page numbers (LMDB's IDL), all among the pages in use.
Status PageChecker::check_page_list(std::uint64_t page, const std::uint8_t* data, std::uint64_t size) const {
  if (size < 8) return damaged(page, "has a free-page list too short for its count");
  const std::uint64_t count = u64(data);
  if (count > (size - 8) / 8)
    return damaged(page, fmt::format("has a free-page list of {} pages in {} bytes", count, size));
  return check_listed_pages(page, data + 8, count);
}

Status PageChecker::check_listed_pages(std::uint64_t page, const std::uint8_t* ids,
                                       std::uint64_t count) const {
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t free_page = u64(ids + 8 * i);
    if (!in_use(free_page)) return damaged(page, fmt::format("lists page {} as free, not in use", free_page));
  }
  return {};
}

// An fd closed on every path.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string damaged_index_advice() {
  return "restore the data directory from a backup, or move it away and start a new store (the relay then "
         "pulls again from the source, or `binlog-relay import` seeds it from the source's binlog files)";
}

Result<PageCheckReport> check_lmdb_pages(const LmdbEnv& env, const std::string& directory) {
  const std::string path = directory + "/data.mdb";
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return make_error_code(errno, "opening {}: {}", path, std::strerror(errno));
  // A read transaction pins its snapshot: a writer in another process reuses none of its pages
  // while the walk reads them. Its meta page may be overwritten two commits later, so the walk
  // starts again on a newer snapshot when neither meta page describes it any more.
  for (int attempt = 0; attempt < 10; ++attempt) {
    BRELAY_ASSIGN_OR_RETURN(LmdbTxn txn, LmdbTxn::begin_read(env));
    PageChecker checker(file.fd, path, env.page_size());
    BRELAY_ASSIGN_OR_RETURN(std::optional<PageCheckReport> report, checker.check(txn.id()));
    if (report) return *report;
  }
  return make_error(
      "checking the store's index {}: the writer commits faster than the check can start; try again", path);
}

}  // namespace brelay::storage
