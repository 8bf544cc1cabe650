#include "storage/write_batch.h"

#include <cstring>

namespace brelay::storage {
namespace {

// resize + memcpy rather than vector::insert from a span's iterators: with 200-byte events it cut
// store_bench's CPU per appended GiB from about 1.7 to 1.35 s.
void append_bytes(Bytes& to, ByteView bytes) {
  if (bytes.empty()) return;
  const std::size_t at = to.size();
  to.resize(at + bytes.size());
  std::memcpy(to.data() + at, bytes.data(), bytes.size());
}

}  // namespace

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
  append_bytes(payload_, event.bytes);
  append_bytes(extras_, event.gtid);
  append_bytes(extras_, event.executed_gtid_set);
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
