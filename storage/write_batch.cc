#include "storage/write_batch.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace brelay::storage {
namespace {

// What reserve() sets aside for GTIDs and executed sets, per event: a GTID key is 12-24 bytes, an
// executed set (on a transaction's last event only) a few dozen for a source with few domains.
constexpr std::size_t kExtraBytesPerEvent = 64;

// Below this a new buffer's pages are left to fault in as they are touched.
constexpr std::size_t kPopulateBytes = std::size_t{256} << 10;

// Maps the pages wholly inside [data, data + size) writable in one call. Advice only: a kernel
// without MADV_POPULATE_WRITE (before 5.14) refuses it, and the pages then fault in on first touch.
void populate(std::uint8_t* data, std::size_t size) {
#ifdef MADV_POPULATE_WRITE
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto address = reinterpret_cast<std::uintptr_t>(data);
  const std::size_t head = (page - address % page) % page;  // up to the first page boundary
  const std::size_t tail = (address + size) % page;         // past the last one
  if (size <= head + tail) return;
  (void)::madvise(data + head, size - head - tail, MADV_POPULATE_WRITE);
#else
  (void)data;
  (void)size;
#endif
}

}  // namespace

void WriteBatch::Buffer::reserve(std::size_t capacity) {
  if (capacity <= capacity_) return;
  // new[] of a byte array without () leaves it uninitialised: every byte is written before use.
  std::unique_ptr<std::uint8_t[]> grown(new std::uint8_t[capacity]);
  if (capacity >= kPopulateBytes) populate(grown.get(), capacity);
  if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
  data_ = std::move(grown);
  capacity_ = capacity;
}

void WriteBatch::Buffer::append(ByteView bytes) {
  if (bytes.empty()) return;
  if (bytes.size() > capacity_ - size_)
    reserve(std::max({capacity_ * 2, size_ + bytes.size(), std::size_t{256}}));
  std::memcpy(data_.get() + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
}

void WriteBatch::reserve(std::size_t event_bytes, std::size_t events) {
  payload_.reserve(event_bytes);
  extras_.reserve(events * kExtraBytesPerEvent);
  events_.reserve(events);
  ops_.reserve(events);
}

void WriteBatch::begin_file(const FileStart& start) {
  ops_.push_back({OpKind::kBeginFile, static_cast<std::uint32_t>(files_.size())});
  files_.push_back(File{start.name, start.first_position,
                        Bytes(start.format_description.begin(), start.format_description.end()),
                        Bytes(start.previous_gtids.begin(), start.previous_gtids.end())});
  other_bytes_ += start.name.size() + start.format_description.size() + start.previous_gtids.size();
}

void WriteBatch::append(const EventAppend& event) {
  ops_.push_back({OpKind::kEvent, static_cast<std::uint32_t>(events_.size())});
  Event stored{};
  stored.position = event.position;
  stored.offset = payload_.size();
  stored.size = event.bytes.size();
  stored.gtid_offset = extras_.size();
  stored.gtid_size = event.gtid.size();
  stored.executed_offset = stored.gtid_offset + stored.gtid_size;
  stored.executed_size = event.executed_gtid_set.size();
  stored.timestamp = event.timestamp;
  stored.boundary = event.ends_transaction;
  payload_.append(event.bytes);
  extras_.append(event.gtid);
  extras_.append(event.executed_gtid_set);
  events_.push_back(stored);
}

void WriteBatch::end_file() {
  ops_.push_back({OpKind::kEndFile, 0});
}

void WriteBatch::abandon_transaction() {
  ops_.push_back({OpKind::kAbandonTransaction, 0});
}

void WriteBatch::put_meta(std::string_view key, ByteView value) {
  ops_.push_back({OpKind::kPutMeta, static_cast<std::uint32_t>(metas_.size())});
  metas_.push_back(Meta{std::string(key), Bytes(value.begin(), value.end())});
  other_bytes_ += key.size() + value.size();
}

std::size_t WriteBatch::byte_size() const {
  return payload_.size() + extras_.size() + other_bytes_ + ops_.size() * sizeof(Op) +
         events_.size() * sizeof(Event);
}

std::size_t WriteBatch::capacity_bytes() const {
  return payload_.capacity() + extras_.capacity() + ops_.capacity() * sizeof(Op) +
         events_.capacity() * sizeof(Event);
}

void WriteBatch::clear() {
  ops_.clear();
  events_.clear();
  files_.clear();
  metas_.clear();
  payload_.clear();
  extras_.clear();
  other_bytes_ = 0;
}

}  // namespace brelay::storage
