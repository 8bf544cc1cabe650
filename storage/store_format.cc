#include "storage/store_format.h"

#include <zstd.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "common/byte_reader.h"
#include "common/byte_writer.h"

namespace brelay::storage {
namespace {

std::uint32_t load_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

void store_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

template <std::size_t N>
void store_be(std::uint8_t* p, std::uint64_t v) {
  for (std::size_t i = 0; i < N; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * (N - 1 - i)));
}

template <std::size_t N>
std::uint64_t load_be(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < N; ++i)
    v = v << 8 | p[i];
  return v;
}

ByteWriter& lenenc_bytes(ByteWriter& writer, ByteView bytes) {
  return writer.lenenc(bytes.size()).bytes(bytes);
}

Result<ByteView> read_lenenc_bytes(ByteReader& reader, std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t size, reader.lenenc(field));
  if (size > reader.remaining()) {
    return make_error("truncated {}: claims {} bytes, {} remain", field, size, reader.remaining());
  }
  return reader.bytes(static_cast<std::size_t>(size), field);
}

Result<NextFileRecord> checked_next_file_record(NextFileRecord record) {
  if (record.closed_file.empty()) return make_error("malformed next-file record: no closed file name");
  if (record.next_file.empty()) return make_error("malformed next-file record: no next file name");
  return record;
}

// The form written before NextFileRecord was binary: "<closed file>\n<next file>\n<position>".
Result<NextFileRecord> decode_text_next_file_record(std::string_view text) {
  const std::size_t first = text.find('\n');
  const std::size_t second = first == std::string_view::npos ? first : text.find('\n', first + 1);
  if (second == std::string_view::npos)
    return make_error("malformed next-file record: neither version {} nor the old text form",
                      NextFileRecord::kVersion);
  NextFileRecord record;
  record.closed_file = std::string(text.substr(0, first));
  record.next_file = std::string(text.substr(first + 1, second - first - 1));
  const std::string_view number = text.substr(second + 1);
  const auto [end, error] =
      std::from_chars(number.data(), number.data() + number.size(), record.next_position);
  if (number.empty() || error != std::errc() || end != number.data() + number.size())
    return make_error("malformed next-file record (old text form): position '{}' is not a number", number);
  return checked_next_file_record(std::move(record));
}

}  // namespace

std::array<std::uint8_t, 12> EventKey::encode() const {
  std::array<std::uint8_t, 12> out{};
  store_be<4>(out.data(), file_seq);
  store_be<8>(out.data() + 4, position);
  return out;
}

Result<EventKey> EventKey::decode(ByteView key) {
  if (key.size() != 12) return make_error("malformed event key: {} bytes, expected 12", key.size());
  return EventKey{static_cast<std::uint32_t>(load_be<4>(key.data())), load_be<8>(key.data() + 4)};
}

std::array<std::uint8_t, 4> encode_file_key(std::uint32_t file_seq) {
  std::array<std::uint8_t, 4> out{};
  store_be<4>(out.data(), file_seq);
  return out;
}

Result<std::uint32_t> decode_file_key(ByteView key) {
  if (key.size() != 4) return make_error("malformed file key: {} bytes, expected 4", key.size());
  return static_cast<std::uint32_t>(load_be<4>(key.data()));
}

Bytes encode_u32_value(std::uint32_t value) {
  ByteWriter writer;
  writer.u32(value);
  return std::move(writer).take();
}

Result<std::uint32_t> decode_u32_value(ByteView value, std::string_view what) {
  ByteReader reader(value);
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t v, reader.u32(what));
  BRELAY_TRY(reader.expect_end(what));
  return v;
}

Bytes FileRecordView::encode() const {
  ByteWriter writer;
  writer.u8(closed ? 1 : 0)
      .u64(first_position)
      .u64(end_position)
      .i64(first_timestamp)
      .i64(last_timestamp)
      .i64(created_time)
      .i64(last_write_time)
      .lenenc_text(name);
  lenenc_bytes(writer, format_description);
  lenenc_bytes(writer, previous_gtids);
  if (encryption) {
    writer.u8(1).u32(encryption->data_key.master_id);
    writer.bytes(encryption->data_key.bytes).bytes(encryption->nonce).bytes(encryption->metadata_mac);
    if (encryption->keystream_part) {
      writer.u8(3).u32(static_cast<std::uint32_t>(encryption->segments.size()));
      for (const crypto::NonceSegment& segment : encryption->segments)
        writer.u64(segment.start).bytes(segment.nonce);
    }
  }
  if (compression) {
    writer.u8(2).u8(compression->algorithm).u64(compression->compressed_bytes).u32(compression->frames);
    writer.bytes(compression->salt);
  }
  return std::move(writer).take();
}

namespace {

template <std::size_t N>
Status read_array(ByteReader& reader, std::array<std::uint8_t, N>& out, std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(ByteView bytes, reader.bytes(N, field));
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return {};
}

Result<FileEncryption> decode_file_encryption(ByteReader& reader) {
  FileEncryption encryption;
  BRELAY_ASSIGN_OR_RETURN(encryption.data_key.master_id, reader.u32("file record master key id"));
  if (encryption.data_key.master_id == 0) return make_error("malformed file record: master key id 0");
  BRELAY_TRY(read_array(reader, encryption.data_key.bytes, "file record wrapped data key"));
  BRELAY_TRY(read_array(reader, encryption.nonce, "file record nonce"));
  BRELAY_TRY(read_array(reader, encryption.metadata_mac, "file record metadata MAC"));
  encryption.keystream_part = false;  // until decode_keystream_segments() reads one
  return encryption;
}

Status decode_keystream_segments(ByteReader& reader, FileEncryption& encryption) {
  constexpr std::size_t kSegmentBytes = 8 + crypto::FileNonce().size();
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t count, reader.u32("file record keystream segment count"));
  if (count > reader.remaining() / kSegmentBytes) {
    return make_error("malformed file record: {} keystream segments claimed, {} bytes remain", count,
                      reader.remaining());
  }
  encryption.keystream_part = true;
  encryption.segments.resize(count);
  std::optional<std::uint64_t> after;
  for (crypto::NonceSegment& segment : encryption.segments) {
    BRELAY_ASSIGN_OR_RETURN(segment.start, reader.u64("file record keystream segment start"));
    BRELAY_TRY(read_array(reader, segment.nonce, "file record keystream segment nonce"));
    if ((after && segment.start <= *after) || segment.start >= FileEncryption::kSegmentRunDomain) {
      return make_error(
          "malformed file record: keystream segment start {} does not follow {} or is not a file position",
          segment.start, after.value_or(0));
    }
    after = segment.start;
  }
  return {};
}

Result<FileCompression> decode_file_compression(ByteReader& reader) {
  FileCompression compression;
  BRELAY_ASSIGN_OR_RETURN(compression.algorithm, reader.u8("file record compression algorithm"));
  if (compression.algorithm != FileCompression::kZstd) {
    return make_error("malformed file record: compression algorithm {} is not zstd (1)",
                      compression.algorithm);
  }
  BRELAY_ASSIGN_OR_RETURN(compression.compressed_bytes, reader.u64("file record compressed size"));
  BRELAY_ASSIGN_OR_RETURN(compression.frames, reader.u32("file record frame count"));
  BRELAY_TRY(read_array(reader, compression.salt, "file record frame key salt"));
  return compression;
}

// The optional parts after the previous GTIDs: an encryption part (tag 1), its keystream part (tag
// 3, version 6), then a compression part (tag 2), each at most once and in that order.
Status decode_record_parts(ByteReader& reader, FileRecordView& record) {
  while (reader.remaining() > 0) {
    BRELAY_ASSIGN_OR_RETURN(std::uint8_t tag, reader.u8("file record part tag"));
    if (tag == 1 && !record.encryption && !record.compression) {
      BRELAY_ASSIGN_OR_RETURN(record.encryption, decode_file_encryption(reader));
    } else if (tag == 3 && record.encryption && !record.encryption->keystream_part && !record.compression) {
      BRELAY_TRY(decode_keystream_segments(reader, *record.encryption));
    } else if (tag == 2 && !record.compression) {
      BRELAY_ASSIGN_OR_RETURN(record.compression, decode_file_compression(reader));
    } else {
      return make_error(
          "malformed file record: trailing byte {} is not an encryption part (1), its keystream part (3) or "
          "a compression part (2) in their place",
          tag);
    }
  }
  return {};
}

}  // namespace

Result<FileRecordView> FileRecordView::decode(ByteView value) {
  ByteReader reader(value);
  FileRecordView record;
  BRELAY_ASSIGN_OR_RETURN(std::uint8_t state, reader.u8("file record state"));
  if (state > 1)
    return make_error("malformed file record: state {} is neither open (0) nor closed (1)", state);
  record.closed = state == 1;
  BRELAY_ASSIGN_OR_RETURN(record.first_position, reader.u64("file record first position"));
  BRELAY_ASSIGN_OR_RETURN(record.end_position, reader.u64("file record end position"));
  if (record.end_position < record.first_position) {
    return make_error("malformed file record: end position {} is before the first position {}",
                      record.end_position, record.first_position);
  }
  BRELAY_ASSIGN_OR_RETURN(record.first_timestamp, reader.i64("file record first timestamp"));
  BRELAY_ASSIGN_OR_RETURN(record.last_timestamp, reader.i64("file record last timestamp"));
  BRELAY_ASSIGN_OR_RETURN(record.created_time, reader.i64("file record created time"));
  BRELAY_ASSIGN_OR_RETURN(record.last_write_time, reader.i64("file record last write time"));
  BRELAY_ASSIGN_OR_RETURN(ByteView name, read_lenenc_bytes(reader, "file record name"));
  record.name = as_text(name);
  BRELAY_ASSIGN_OR_RETURN(record.format_description, read_lenenc_bytes(reader, "file record FDE"));
  BRELAY_ASSIGN_OR_RETURN(record.previous_gtids, read_lenenc_bytes(reader, "file record previous GTIDs"));
  BRELAY_TRY(decode_record_parts(reader, record));
  BRELAY_TRY(reader.expect_end("file record"));
  return record;
}

Bytes FrameView::encode() const {
  ByteWriter writer;
  writer.u64(offset).u32(compressed_size).u32(stored_size);
  if (mac) writer.bytes(*mac);
  return std::move(writer).take();
}

Result<FrameView> FrameView::decode(ByteView value) {
  ByteReader reader(value);
  FrameView frame;
  BRELAY_ASSIGN_OR_RETURN(frame.offset, reader.u64("frame offset"));
  BRELAY_ASSIGN_OR_RETURN(frame.compressed_size, reader.u32("frame compressed size"));
  BRELAY_ASSIGN_OR_RETURN(frame.stored_size, reader.u32("frame stored size"));
  if (frame.stored_size == 0 || frame.stored_size > kMaxStoredBytes || frame.compressed_size == 0 ||
      frame.compressed_size > frame.stored_size + frame.stored_size / 64 + (64 << 10)) {
    return make_error("malformed frame: {} compressed bytes for {} stored bytes", frame.compressed_size,
                      frame.stored_size);
  }
  if (reader.remaining() > 0) {
    crypto::Mac256 mac{};
    BRELAY_TRY(read_array(reader, mac, "frame MAC"));
    frame.mac = mac;
  }
  BRELAY_TRY(reader.expect_end("frame"));
  return frame;
}

Bytes ResumeRecordView::encode() const {
  ByteWriter writer;
  writer.u32(file_seq).u64(position).i64(timestamp).lenenc_text(file_name);
  lenenc_bytes(writer, last_gtid);
  lenenc_bytes(writer, executed_gtid_set);
  return std::move(writer).take();
}

Result<ResumeRecordView> ResumeRecordView::decode(ByteView value) {
  ByteReader reader(value);
  ResumeRecordView record;
  BRELAY_ASSIGN_OR_RETURN(record.file_seq, reader.u32("resume point file sequence"));
  BRELAY_ASSIGN_OR_RETURN(record.position, reader.u64("resume point position"));
  BRELAY_ASSIGN_OR_RETURN(record.timestamp, reader.i64("resume point timestamp"));
  BRELAY_ASSIGN_OR_RETURN(ByteView name, read_lenenc_bytes(reader, "resume point file name"));
  record.file_name = as_text(name);
  BRELAY_ASSIGN_OR_RETURN(record.last_gtid, read_lenenc_bytes(reader, "resume point GTID"));
  BRELAY_ASSIGN_OR_RETURN(record.executed_gtid_set,
                          read_lenenc_bytes(reader, "resume point executed GTID set"));
  BRELAY_TRY(reader.expect_end("resume point"));
  return record;
}

Bytes NextFileRecord::encode() const {
  ByteWriter writer;
  writer.u8(kVersion).lenenc_text(closed_file).lenenc_text(next_file).u64(next_position);
  return std::move(writer).take();
}

Result<NextFileRecord> NextFileRecord::decode(ByteView value) {
  ByteReader reader(value);
  BRELAY_ASSIGN_OR_RETURN(std::uint8_t version, reader.u8("next-file record version"));
  if (version != kVersion) return decode_text_next_file_record(as_text(value));
  NextFileRecord record;
  BRELAY_ASSIGN_OR_RETURN(ByteView closed, read_lenenc_bytes(reader, "next-file record closed file"));
  BRELAY_ASSIGN_OR_RETURN(ByteView next, read_lenenc_bytes(reader, "next-file record next file"));
  BRELAY_ASSIGN_OR_RETURN(record.next_position, reader.u64("next-file record position"));
  BRELAY_TRY(reader.expect_end("next-file record"));
  record.closed_file = std::string(as_text(closed));
  record.next_file = std::string(as_text(next));
  return checked_next_file_record(std::move(record));
}

Result<RunView> RunView::parse(ByteView value) {
  if (value.size() < 4)
    return make_error("malformed event run: {} bytes, too short for its event count", value.size());
  const std::uint64_t count = load_le32(value.data() + value.size() - 4);
  if (count == 0) return make_error("malformed event run: no events");
  const std::uint64_t table = 4 * count + 4;
  const std::uint64_t mac_size = crypto::Mac256().size();
  if (table != value.size() && table + mac_size != value.size()) {
    return make_error(
        "malformed event run: {} events need a {}-byte table (or {} with a MAC), the run has {} bytes", count,
        table, table + mac_size, value.size());
  }
  RunView run;
  if (table != value.size()) run.mac_ = value.data();
  run.ends_ = value.data() + (value.size() - table);
  run.count_ = static_cast<std::size_t>(count);
  std::uint32_t previous = 0;
  for (std::size_t i = 0; i < run.count_; ++i) {
    const std::uint32_t end = load_le32(run.ends_ + 4 * i);
    if (end <= previous) {
      return make_error("malformed event run: event {} ends at {}, not after the previous end {}", i, end,
                        previous);
    }
    previous = end;
  }
  run.payload_size_ = previous;
  return run;
}

void RunView::write(std::span<std::uint8_t> value, std::span<const std::uint32_t> event_ends,
                    const crypto::Mac256* mac) {
  std::uint8_t* table = value.data();
  if (mac != nullptr) table = std::copy(mac->begin(), mac->end(), table);
  for (std::uint32_t end : event_ends) {
    store_le32(table, end);
    table += 4;
  }
  store_le32(table, static_cast<std::uint32_t>(event_ends.size()));
}

std::optional<std::uint32_t> event_header_length(ByteView event) {
  if (event.size() < kEventHeaderBytes) return std::nullopt;
  return load_le32(event.data() + kEventLengthOffset);
}

Result<Bytes> frame_event_ends(ByteView frame) {
  Bytes ends;
  ends.reserve(4 * (frame.size() / 256 + 2));
  std::size_t at = 0;
  while (at < frame.size()) {
    const auto length = event_header_length(frame.subspan(at));
    if (!length) {
      return make_error("the event at offset {} of the frame is cut by the frame's end ({} bytes)", at,
                        frame.size());
    }
    if (*length < kEventHeaderBytes || *length > frame.size() - at) {
      return make_error(
          "the event at offset {} of the frame gives a length of {} bytes, which {}", at, *length,
          *length < kEventHeaderBytes ? "is shorter than an event header" : "reaches past the frame's end");
    }
    at += *length;
    const std::size_t slot = ends.size();
    ends.resize(slot + 4);
    store_le32(ends.data() + slot, static_cast<std::uint32_t>(at));
  }
  if (ends.empty()) return make_error("the frame holds no event");
  const std::size_t slot = ends.size();
  ends.resize(slot + 4);
  store_le32(ends.data() + slot, static_cast<std::uint32_t>(slot / 4));
  return ends;
}

std::optional<crypto::Mac256> RunView::mac() const {
  if (mac_ == nullptr) return std::nullopt;
  crypto::Mac256 mac{};
  std::copy(mac_, mac_ + mac.size(), mac.begin());
  return mac;
}

std::uint32_t RunView::event_end(std::size_t index) const {
  return load_le32(ends_ + 4 * index);
}

std::size_t RunView::events_ending_by(std::uint64_t offset) const {
  std::size_t low = 0;
  std::size_t high = count_;  // answer in [low, high]
  while (low < high) {
    const std::size_t mid = low + (high - low) / 2;
    if (event_end(mid) <= offset) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low;
}

std::size_t RunView::first_event_at_or_after(std::uint64_t offset) const {
  if (offset == 0) return 0;
  // Event i > 0 starts where event i - 1 ends. With c events ending before `offset`, events 1..c
  // start before it and event c + 1 is the first to start at or after it.
  return std::min(count_, events_ending_by(offset - 1) + 1);
}

std::optional<std::size_t> RunView::event_starting_at(std::uint64_t offset) const {
  const std::size_t index = first_event_at_or_after(offset);
  if (index < count_ && event_start(index) == offset) return index;
  return std::nullopt;
}

FileInfo to_file_info(std::uint32_t file_seq, const FileRecordView& record) {
  FileInfo info;
  info.seq = file_seq;
  info.name = std::string(record.name);
  info.first_position = record.first_position;
  info.end_position = record.end_position;
  info.first_timestamp = record.first_timestamp;
  info.last_timestamp = record.last_timestamp;
  info.created_time = record.created_time;
  info.last_write_time = record.last_write_time;
  info.closed = record.closed;
  if (record.compression) info.compressed_bytes = record.compression->compressed_bytes;
  info.format_description.assign(record.format_description.begin(), record.format_description.end());
  info.previous_gtids.assign(record.previous_gtids.begin(), record.previous_gtids.end());
  return info;
}

FileRecordView record_view(const FileInfo& info) {
  FileRecordView record;
  record.closed = info.closed;
  record.first_position = info.first_position;
  record.end_position = info.end_position;
  record.first_timestamp = info.first_timestamp;
  record.last_timestamp = info.last_timestamp;
  record.created_time = info.created_time;
  record.last_write_time = info.last_write_time;
  record.name = info.name;
  record.format_description = info.format_description;
  record.previous_gtids = info.previous_gtids;
  return record;  // plain: file_ciphers.h encodes an encrypted file's record
}

ResumePoint to_resume_point(const ResumeRecordView& record) {
  ResumePoint point;
  point.file = std::string(record.file_name);
  point.file_seq = record.file_seq;
  point.position = record.position;
  point.timestamp = record.timestamp;
  point.last_gtid.assign(record.last_gtid.begin(), record.last_gtid.end());
  point.executed_gtid_set.assign(record.executed_gtid_set.begin(), record.executed_gtid_set.end());
  return point;
}

Result<Bytes> encode_gtid_list(std::span<const GtidListEntry> entries) {
  ByteWriter packed;
  std::uint64_t previous = 0;
  for (const GtidListEntry& entry : entries) {
    if (entry.position < previous) return make_error("GTID list entries out of position order");
    packed.lenenc(entry.position - previous).lenenc(entry.gtid.size()).bytes(entry.gtid);
    previous = entry.position;
  }
  const Bytes raw = std::move(packed).take();
  if (raw.size() > kMaxGtidListBytes || entries.size() > kMaxGtidListBytes)
    return make_error("a GTID list of {} entries ({} bytes) is too large to store", entries.size(),
                      raw.size());
  Bytes value(8 + ZSTD_compressBound(raw.size()));
  store_le32(value.data(), static_cast<std::uint32_t>(entries.size()));
  store_le32(value.data() + 4, static_cast<std::uint32_t>(raw.size()));
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  if (!cctx) return make_error("out of memory for a zstd context");
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  const std::size_t size =
      ZSTD_compress2(cctx.get(), value.data() + 8, value.size() - 8, raw.data(), raw.size());
  if (ZSTD_isError(size)) return make_error("compressing a GTID list: {}", ZSTD_getErrorName(size));
  if (raw.size() / kMaxGtidListRatio > size) {
    return make_error("a GTID list of {} entries packs {} bytes into {}, more than a stored list may",
                      entries.size(), raw.size(), size);
  }
  value.resize(8 + size);
  return value;
}

Result<std::vector<GtidListEntry>> decode_gtid_list(ByteView value) {
  ByteReader reader(value);
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t count, reader.u32("GTID list count"));
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t packed_size, reader.u32("GTID list packed size"));
  if (packed_size > kMaxGtidListBytes)
    return make_error("malformed GTID list: a packed size of {} bytes", packed_size);
  // Every entry packs into at least 2 bytes (a zero distance and an empty key).
  if (count > packed_size / 2) {
    return make_error("malformed GTID list: {} entries cannot fit in {} packed bytes", count, packed_size);
  }
  const ByteView frame = reader.rest();
  if (packed_size / kMaxGtidListRatio > frame.size()) {
    return make_error("malformed GTID list: {} packed bytes cannot come from a {}-byte frame", packed_size,
                      frame.size());
  }
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content != packed_size) {
    return make_error("malformed GTID list: its zstd frame holds {} bytes, not the {} it gives",
                      content == ZSTD_CONTENTSIZE_UNKNOWN || content == ZSTD_CONTENTSIZE_ERROR
                          ? std::string("an unknown number of")
                          : fmt::format("{}", content),
                      packed_size);
  }
  Bytes raw(packed_size);
  const std::size_t size = ZSTD_decompress(raw.data(), raw.size(), frame.data(), frame.size());
  if (ZSTD_isError(size)) return make_error("malformed GTID list: {}", ZSTD_getErrorName(size));
  if (size != packed_size)
    return make_error("malformed GTID list: {} packed bytes, not {}", size, packed_size);
  std::vector<GtidListEntry> entries;
  entries.reserve(std::min<std::size_t>(count, std::size_t{1} << 16));  // the count is not trusted
  ByteReader packed(raw);
  std::uint64_t position = 0;
  while (!packed.at_end()) {
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t distance, packed.lenenc("GTID list position"));
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t length, packed.lenenc("GTID list key length"));
    if (length > packed.remaining()) return make_error("malformed GTID list: a key runs past its end");
    BRELAY_ASSIGN_OR_RETURN(ByteView key, packed.bytes(static_cast<std::size_t>(length), "GTID list key"));
    if (distance > UINT64_MAX - position) return make_error("malformed GTID list: a position overflows");
    position += distance;
    if (entries.size() == count)
      return make_error("malformed GTID list: more entries than its count {}", count);
    entries.push_back(GtidListEntry{position, Bytes(key.begin(), key.end())});
  }
  if (entries.size() != count)
    return make_error("malformed GTID list: {} entries, not the {} it gives", entries.size(), count);
  return entries;
}

}  // namespace brelay::storage
