#include "storage/event_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>
#include <utility>

#include <lmdb.h>

namespace brelay::storage {
namespace {

static_assert(kStoreDamagedCode == MDB_CORRUPTED);

constexpr std::string_view kSuffix = ".events";
constexpr std::string_view kCompressedSuffix = ".events.zst";
// A map reaches this far past what was asked for, so a reader following the file being written
// makes a new map once per this many bytes, not once per read.
constexpr std::uint64_t kMapGranularity = std::uint64_t{64} << 20;
constexpr std::size_t kMaxWriteBytes = std::size_t{256} << 10;

Error errno_error(int code, std::string_view what, const std::string& path) {
  return make_error_code(code, "{} {}: {}", what, path, std::strerror(code));
}

Status fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, "opening the directory", path);
  const int synced = ::fsync(fd);
  const int code = errno;
  ::close(fd);
  if (synced != 0) return errno_error(code, "syncing the directory", path);
  return {};
}

// Reads up to out.size() bytes at `offset`, stopping early only at the end of the file: the bytes
// read, or an errno error.
Result<std::size_t> pread_full(int fd, std::uint64_t offset, std::span<std::uint8_t> out,
                               const std::string& path) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errno_error(errno, "reading", path);
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

}  // namespace

EventFileMap::~EventFileMap() {
  if (length_ > 0) ::munmap(const_cast<std::uint8_t*>(base_), length_);
  if (fd_ >= 0) ::close(fd_);
}

EventFileMap::Checked EventFileMap::checked() const {
  std::lock_guard lock(checked_mutex_);
  return checked_;
}

void EventFileMap::add_checked(std::uint64_t begin, std::uint64_t end) const {
  if (begin >= end) return;
  std::lock_guard lock(checked_mutex_);
  if (checked_.begin == checked_.end) {
    checked_ = {begin, end};
  } else if (begin <= checked_.end && end >= checked_.begin) {
    checked_ = {std::min(begin, checked_.begin), std::max(end, checked_.end)};
  }
}

Status EventFileMap::read_into(std::uint64_t offset, std::span<std::uint8_t> out) const {
  BRELAY_ASSIGN_OR_RETURN(std::size_t done, pread_full(fd_, offset, out, path_));
  if (done < out.size()) {
    return make_error_code(kStoreDamagedCode,
                           "bytes {} to {} of the event file {} can no longer be read (the file was cut "
                           "short while the relay read it): the store is damaged",
                           offset + done, offset + out.size(), path_);
  }
  return {};
}

EventFileAppender::EventFileAppender(EventFileAppender&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

EventFileAppender& EventFileAppender::operator=(EventFileAppender&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

EventFileAppender::~EventFileAppender() {
  if (fd_ >= 0) ::close(fd_);
}

Status EventFileAppender::write_at(std::uint64_t offset, std::span<const ByteView> pieces) {
  std::size_t piece = 0;  // the first piece not completely written
  std::size_t done = 0;   // bytes of pieces[piece] already written
  std::array<iovec, 64> iov;
  while (piece < pieces.size()) {
    // One call writes at most kMaxWriteBytes: on this kind of machine a single multi-MiB write
    // into the page cache measured several times slower than the same bytes in 256 KiB calls.
    std::size_t count = 0;
    std::size_t bytes = 0;
    for (std::size_t i = piece, skip = done;
         i < pieces.size() && count < iov.size() && bytes < kMaxWriteBytes; ++i, skip = 0) {
      const std::size_t take = std::min(pieces[i].size() - skip, kMaxWriteBytes - bytes);
      if (take == 0) continue;
      iov[count++] = iovec{const_cast<std::uint8_t*>(pieces[i].data() + skip), take};
      bytes += take;
    }
    if (count == 0) break;
    const ssize_t written = ::pwritev(fd_, iov.data(), static_cast<int>(count), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, "writing events to", path_);
    }
    if (written == 0) return errno_error(ENOSPC, "writing events to", path_);
    offset += static_cast<std::uint64_t>(written);
    std::size_t left = static_cast<std::size_t>(written);
    while (left > 0) {
      const std::size_t rest = pieces[piece].size() - done;
      if (left < rest) {
        done += left;
        left = 0;
      } else {
        left -= rest;
        ++piece;
        done = 0;
      }
    }
    while (piece < pieces.size() && pieces[piece].size() == done) {
      ++piece;
      done = 0;
    }
  }
  return {};
}

Status EventFileAppender::sync() {
  if (::fdatasync(fd_) != 0) return errno_error(errno, "syncing", path_);
  return {};
}

Result<EventFileAppender::SyncTarget> EventFileAppender::sync_target() const {
  const int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return errno_error(errno, "duplicating the descriptor of", path_);
  return SyncTarget(fd, path_);
}

EventFileAppender::SyncTarget::~SyncTarget() {
  if (fd_ >= 0) ::close(fd_);
}

Status EventFileAppender::SyncTarget::sync() const {
  if (::fdatasync(fd_) != 0) return errno_error(errno, "syncing", path_);
  return {};
}

Result<std::unique_ptr<EventFiles>> EventFiles::open(const std::string& data_dir, bool read_only) {
  std::string directory = (std::filesystem::path(data_dir) / "events").string();
  if (!read_only) {
    std::error_code ec;
    const bool created = std::filesystem::create_directories(directory, ec);
    if (ec) return make_error_code(ec.value(), "creating {}: {}", directory, ec.message());
    if (created) BRELAY_TRY(fsync_path(data_dir));
  }
  return std::unique_ptr<EventFiles>(new EventFiles(std::move(directory)));
}

std::string EventFiles::path(std::uint32_t file_seq) const {
  return fmt::format("{}/{:010}{}", directory_, file_seq, kSuffix);
}

Result<EventFileAppender> EventFiles::create(std::uint32_t file_seq, bool sync) {
  std::string file = path(file_seq);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return errno_error(errno, "creating the event file", file);
  EventFileAppender appender(fd, std::move(file));
  if (sync) BRELAY_TRY(sync_directory());
  return appender;
}

Result<EventFileAppender> EventFiles::open_for_append(std::uint32_t file_seq) {
  std::string file = path(file_seq);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, "opening the event file", file);
  return EventFileAppender(fd, std::move(file));
}

Result<std::shared_ptr<const EventFileMap>> EventFiles::map(std::uint32_t file_seq, std::uint64_t end) {
  std::lock_guard lock(mutex_);
  if (auto it = maps_.find(file_seq); it != maps_.end()) {
    if (auto cached = it->second.lock(); cached && cached->length() >= end) return cached;
  }
  const std::string file = path(file_seq);
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    return make_error_code(
        kStoreDamagedCode,
        "the event file {} is missing but the store's index names it: the store is damaged", file);
  }
  if (fd < 0) return errno_error(errno, "opening the event file", file);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int code = errno;
    ::close(fd);
    return errno_error(code, "reading the size of", file);
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < end) {
    ::close(fd);
    return make_error_code(
        kStoreDamagedCode,
        "the event file {} has {} bytes but the store's index names {}: the store is damaged "
        "(was it written with sync = none before a machine crash?)",
        file, file_size, end);
  }
  const std::uint64_t length = std::max<std::uint64_t>(
      (end + kMapGranularity - 1) / kMapGranularity * kMapGranularity, kMapGranularity);
  void* base = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  const int code = errno;
  if (base == MAP_FAILED) {
    ::close(fd);
    return errno_error(code, "mapping the event file", file);
  }
  std::shared_ptr<const EventFileMap> mapped(
      new EventFileMap(static_cast<const std::uint8_t*>(base), length, fd, file));
  maps_[file_seq] = mapped;
  // Forget maps nobody holds any more.
  std::erase_if(maps_, [](const auto& entry) { return entry.second.expired(); });
  return mapped;
}

void EventFileMap::populate(std::uint64_t offset, std::size_t size) const {
#ifdef MADV_POPULATE_READ
  static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t first = offset / page * page;
  const std::uint64_t end = std::min<std::uint64_t>(length_, (offset + size + page - 1) / page * page);
  // Advice only: an old kernel (EINVAL) or a failure leaves the pages to be faulted in on touch,
  // where a damaged or missing page still surfaces as it always did.
  if (end > first)
    (void)::madvise(const_cast<std::uint8_t*>(base_) + first, static_cast<std::size_t>(end - first),
                    MADV_POPULATE_READ);
#else
  (void)offset;
  (void)size;
#endif
}

Result<std::vector<std::uint32_t>> EventFiles::list() const {
  return list_with_suffix(kSuffix);
}

Result<std::vector<std::uint32_t>> EventFiles::list_compressed() const {
  return list_with_suffix(kCompressedSuffix);
}

Result<std::vector<std::uint32_t>> EventFiles::list_with_suffix(std::string_view suffix) const {
  std::vector<std::uint32_t> seqs;
  std::error_code ec;
  std::filesystem::directory_iterator it(directory_, ec);
  if (ec) return make_error_code(ec.value(), "listing {}: {}", directory_, ec.message());
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.ends_with(suffix)) continue;
    std::uint32_t seq = 0;
    const char* first = name.data();
    const char* last = name.data() + name.size() - suffix.size();
    auto [ptr, parsed] = std::from_chars(first, last, seq);
    if (parsed == std::errc() && ptr == last) seqs.push_back(seq);
  }
  if (ec) return make_error_code(ec.value(), "listing {}: {}", directory_, ec.message());
  std::ranges::sort(seqs);
  return seqs;
}

Result<std::uint64_t> EventFiles::size(std::uint32_t file_seq) const {
  const std::string file = path(file_seq);
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return errno_error(errno, "reading the size of", file);
  return static_cast<std::uint64_t>(st.st_size);
}

Status EventFiles::truncate(std::uint32_t file_seq, std::uint64_t size, bool sync) {
  const std::string file = path(file_seq);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, "opening the event file", file);
  struct stat st {};
  int result = ::fstat(fd, &st);
  if (result == 0 && static_cast<std::uint64_t>(st.st_size) > size) {
    result = ::ftruncate(fd, static_cast<off_t>(size));
    if (result == 0 && sync) result = ::fdatasync(fd);
  }
  const int code = errno;
  ::close(fd);
  if (result != 0) return errno_error(code, "cutting the event file", file);
  return {};
}

Status EventFiles::remove(std::uint32_t file_seq) {
  const std::string file = path(file_seq);
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) return errno_error(errno, "removing", file);
  return {};
}

std::uint64_t EventFiles::disk_bytes() const {
  std::uint64_t total = 0;
  std::error_code ec;
  std::filesystem::directory_iterator it(directory_, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::stat(it->path().c_str(), &st) == 0) total += static_cast<std::uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

std::string EventFiles::compressed_path(std::uint32_t file_seq) const {
  return fmt::format("{}/{:010}{}", directory_, file_seq, kCompressedSuffix);
}

Result<EventFileAppender> EventFiles::create_compressed(std::uint32_t file_seq) {
  std::string file = compressed_path(file_seq);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return errno_error(errno, "creating the compressed file", file);
  return EventFileAppender(fd, std::move(file));
}

Result<CompressedFile> EventFiles::open_compressed(std::uint32_t file_seq) const {
  std::string file = compressed_path(file_seq);
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    return make_error_code(
        kStoreDamagedCode,
        "the compressed file {} is missing but the store's index names it: the store is damaged", file);
  }
  if (fd < 0) return errno_error(errno, "opening the compressed file", file);
  return CompressedFile(fd, std::move(file));
}

Result<std::uint64_t> EventFiles::compressed_size(std::uint32_t file_seq) const {
  const std::string file = compressed_path(file_seq);
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return errno_error(errno, "reading the size of", file);
  return static_cast<std::uint64_t>(st.st_size);
}

Status EventFiles::remove_compressed(std::uint32_t file_seq) {
  const std::string file = compressed_path(file_seq);
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) return errno_error(errno, "removing", file);
  return {};
}

CompressedFile& CompressedFile::operator=(CompressedFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

CompressedFile::~CompressedFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status CompressedFile::read(std::uint64_t offset, std::span<std::uint8_t> out) const {
  BRELAY_ASSIGN_OR_RETURN(std::size_t done, pread_full(fd_, offset, out, path_));
  if (done < out.size()) {
    return make_error_code(
        kStoreDamagedCode,
        "the compressed file {} ends at {} but the store's index names bytes up to {}: the "
        "store is damaged",
        path_, offset + done, offset + out.size());
  }
  return {};
}

Status EventFiles::sync_directory() const {
  return fsync_path(directory_);
}

}  // namespace brelay::storage
