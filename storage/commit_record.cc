#include "storage/commit_record.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <string>

#include "common/byte_reader.h"
#include "common/byte_writer.h"

namespace brelay::storage {
namespace {

constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kSealedVersion = 2;  // an encrypted file's: the body ends with a MAC
constexpr std::size_t kMacSize = crypto::Mac256{}.size();
constexpr std::uint64_t kCommitRecordMagic = 0x31444345524d4342;  // "BCMRECD1" little-endian
constexpr std::size_t kFooterSize = 16;
// A lone round holds at most StoreWriter's lone-round bound of event bytes; its record is far
// smaller. Anything claiming more is not a record.
constexpr std::uint32_t kMaxBodySize = 16u << 20;
constexpr std::uint8_t kEventEntry = 1;
constexpr std::uint8_t kMetaEntry = 2;

struct Header {
  std::uint32_t file_seq = 0;
  std::uint64_t first_position = 0;
  std::uint64_t end_position = 0;
  std::int64_t now = 0;
  std::uint32_t payload_crc = 0;
  std::uint32_t entries = 0;
};

Result<Header> read_header(ByteReader& reader, std::uint32_t expected_version) {
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t version, reader.u32("version"));
  if (version != expected_version)
    return make_error("commit record version {} is not {}", version, expected_version);
  Header header;
  BRELAY_ASSIGN_OR_RETURN(header.file_seq, reader.u32("file"));
  BRELAY_ASSIGN_OR_RETURN(header.first_position, reader.u64("first position"));
  BRELAY_ASSIGN_OR_RETURN(header.end_position, reader.u64("end position"));
  BRELAY_ASSIGN_OR_RETURN(header.now, reader.i64("clock"));
  BRELAY_ASSIGN_OR_RETURN(header.payload_crc, reader.u32("payload CRC"));
  BRELAY_ASSIGN_OR_RETURN(header.entries, reader.u32("entries"));
  return header;
}

Result<ByteView> sized(ByteReader& reader, std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t size, reader.u32(field));
  return reader.bytes(size, field);
}

// Adds the record's entries to `batch` with the event bytes from `payload` (the round's bytes).
Status read_entries(ByteReader& reader, const Header& header, ByteView payload, WriteBatch& batch) {
  std::uint64_t offset = 0;
  for (std::uint32_t i = 0; i < header.entries; ++i) {
    BRELAY_ASSIGN_OR_RETURN(std::uint8_t kind, reader.u8("entry kind"));
    if (kind == kMetaEntry) {
      BRELAY_ASSIGN_OR_RETURN(ByteView key, sized(reader, "meta key"));
      BRELAY_ASSIGN_OR_RETURN(ByteView value, sized(reader, "meta value"));
      batch.put_meta(as_text(key), value);
      continue;
    }
    if (kind != kEventEntry) return make_error("commit record entry kind {} is unknown", kind);
    BRELAY_ASSIGN_OR_RETURN(std::uint32_t size, reader.u32("event size"));
    BRELAY_ASSIGN_OR_RETURN(std::int64_t timestamp, reader.i64("timestamp"));
    BRELAY_ASSIGN_OR_RETURN(std::uint8_t boundary, reader.u8("boundary"));
    BRELAY_ASSIGN_OR_RETURN(ByteView gtid, sized(reader, "GTID"));
    BRELAY_ASSIGN_OR_RETURN(ByteView executed, sized(reader, "executed set"));
    if (size == 0 || size > payload.size() - offset)
      return make_error("commit record events overrun the round");
    batch.append(EventAppend{header.first_position + offset, payload.subspan(offset, size), boundary != 0,
                             gtid, timestamp, executed});
    offset += size;
  }
  if (offset != payload.size()) return make_error("commit record events do not fill the round");
  return reader.expect_end("commit record");
}

// What a sealed record's MAC covers after its offset: the nonce, then the body before the MAC.
Bytes sealed_bound(const crypto::FileNonce& nonce, ByteView body) {
  Bytes bound(nonce.begin(), nonce.end());
  bound.insert(bound.end(), body.begin(), body.end());
  return bound;
}

// The nonce the bytes from `first` to `end` of an encrypted file are under; nullopt when a keystream
// segment starts inside them (the writer seals no such round).
std::optional<crypto::FileNonce> round_nonce(const FileCipher& cipher, std::uint64_t first,
                                             std::uint64_t end) {
  for (const crypto::NonceSegment& segment : cipher.segments) {
    if (segment.start > first && segment.start < end) return std::nullopt;
  }
  const crypto::FileNonce* segment = segment_nonce_at(cipher, first);
  return segment != nullptr ? *segment : cipher.nonce;
}

}  // namespace

std::uint32_t commit_record_crc(ByteView bytes, std::uint32_t crc) {
  return static_cast<std::uint32_t>(crc32_z(crc, bytes.data(), bytes.size()));
}

void CommitRecordBuilder::add_event(std::size_t size, std::int64_t timestamp, bool boundary, ByteView gtid,
                                    ByteView executed_set) {
  ByteWriter writer(std::move(entries_));
  writer.u8(kEventEntry).u32(static_cast<std::uint32_t>(size)).i64(timestamp).u8(boundary ? 1 : 0);
  writer.u32(static_cast<std::uint32_t>(gtid.size())).bytes(gtid);
  writer.u32(static_cast<std::uint32_t>(executed_set.size())).bytes(executed_set);
  entries_ = std::move(writer).take();
  count_ += 1;
}

void CommitRecordBuilder::add_meta(std::string_view key, ByteView value) {
  ByteWriter writer(std::move(entries_));
  writer.u8(kMetaEntry).u32(static_cast<std::uint32_t>(key.size())).text(key);
  writer.u32(static_cast<std::uint32_t>(value.size())).bytes(value);
  entries_ = std::move(writer).take();
  count_ += 1;
}

Result<Bytes> CommitRecordBuilder::finish(std::uint32_t file_seq, std::uint64_t first_position,
                                          std::uint64_t end_position, std::int64_t now,
                                          std::uint32_t payload_crc, const CommitRecordSeal* seal) const {
  ByteWriter writer;
  writer.u32(seal != nullptr ? kSealedVersion : kVersion).u32(file_seq).u64(first_position).u64(end_position);
  writer.i64(now).u32(payload_crc).u32(count_).bytes(entries_);
  if (seal != nullptr) {
    if (first_position >= FileEncryption::kCommitRecordPositions)
      return make_error("internal: a sealed commit record at position {}", first_position);
    crypto::RunMacer& macer = *seal->macer;
    BRELAY_TRY(macer.begin(FileEncryption::kCommitRecordDomain + first_position));
    BRELAY_TRY(macer.update(sealed_bound(seal->nonce, writer.data())));
    for (const ByteView stored : seal->stored)
      BRELAY_TRY(macer.update(stored));
    BRELAY_ASSIGN_OR_RETURN(const crypto::Mac256 mac, macer.finish());
    writer.bytes(mac);
  }
  const auto body_size = static_cast<std::uint32_t>(writer.size());
  const std::uint32_t body_crc = commit_record_crc(writer.data());
  writer.u32(body_size).u32(body_crc).u64(kCommitRecordMagic);
  return std::move(writer).take();
}

Result<std::optional<ReplayedRound>> read_commit_record(EventFiles& files, std::uint32_t file_seq,
                                                        std::uint64_t indexed_end, const FileCipher* cipher) {
  auto file_size = files.size(file_seq);
  if (!file_size)
    return std::optional<ReplayedRound>();  // a missing event file: reconcile_event_files says what it means
  const std::uint64_t size = *file_size;
  if (size < indexed_end + kFooterSize) return std::optional<ReplayedRound>();
  BRELAY_ASSIGN_OR_RETURN(auto map, files.map(file_seq, size));
  ByteReader footer(map->bytes(size - kFooterSize, kFooterSize));
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t body_size, footer.u32("body size"));
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t body_crc, footer.u32("body CRC"));
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t magic, footer.u64("magic"));
  if (magic != kCommitRecordMagic || body_size > kMaxBodySize) return std::optional<ReplayedRound>();
  if (size - kFooterSize - indexed_end < body_size) return std::optional<ReplayedRound>();
  const std::uint64_t record_start = size - kFooterSize - body_size;
  ByteView body = map->bytes(record_start, body_size);
  if (commit_record_crc(body) != body_crc) return std::optional<ReplayedRound>();
  crypto::Mac256 mac{};
  if (cipher != nullptr) {  // the body ends with its MAC
    if (body.size() < kMacSize) return std::optional<ReplayedRound>();
    std::copy(body.end() - kMacSize, body.end(), mac.begin());
    body = body.first(body.size() - kMacSize);
  }
  ByteReader reader(body);
  auto header = read_header(reader, cipher != nullptr ? kSealedVersion : kVersion);
  if (!header) return std::optional<ReplayedRound>();
  // The round must continue the index exactly and end where its record begins.
  if (header->file_seq != file_seq || header->first_position != indexed_end ||
      header->end_position != record_start || header->end_position <= header->first_position) {
    return std::optional<ReplayedRound>();
  }
  const ByteView stored = map->bytes(indexed_end, record_start - indexed_end);
  if (commit_record_crc(stored) != header->payload_crc) return std::optional<ReplayedRound>();
  ReplayedRound round;
  ByteView payload = stored;
  Bytes plain;
  if (cipher != nullptr) {
    if (header->first_position >= FileEncryption::kCommitRecordPositions)
      return std::optional<ReplayedRound>();
    const std::optional<crypto::FileNonce> nonce = round_nonce(*cipher, header->first_position, record_start);
    if (!nonce) return std::optional<ReplayedRound>();
    BRELAY_ASSIGN_OR_RETURN(crypto::RunMacer macer, crypto::RunMacer::create(cipher->key));
    BRELAY_ASSIGN_OR_RETURN(const bool authentic,
                            macer.matches(FileEncryption::kCommitRecordDomain + header->first_position,
                                          sealed_bound(*nonce, body), stored, mac));
    if (!authentic) return std::optional<ReplayedRound>();
    plain.resize(stored.size());
    BRELAY_ASSIGN_OR_RETURN(crypto::FileCtr ctr,
                            crypto::FileCtr::create(cipher->key, cipher->nonce, cipher->segments));
    BRELAY_TRY(ctr.apply(header->first_position, stored, plain));
    payload = plain;
    round.stored.assign(stored.begin(), stored.end());
  }
  round.now = header->now;
  round.end_position = header->end_position;
  if (!read_entries(reader, *header, payload, round.batch)) return std::optional<ReplayedRound>();
  return std::optional<ReplayedRound>(std::move(round));
}

}  // namespace brelay::storage
