// The on-disk layout of the binlog store: database names, key encodings, value layouts and the
// format version. Everything the store writes is encoded and decoded here and nowhere else.
//
// Databases (one LMDB environment):
//   events          EventKey (file sequence u32 BE, position u64 BE) of a run's first event
//                   -> the index of a run: consecutive events of one file, see RunView; their
//                   bytes are in the file's event file (event_files.h). Compressed files keep no
//                   runs (version 5): their frames are cut at event boundaries, and a reader
//                   finds a frame's events by their headers (frame_event_ends)
//   files           file sequence u32 BE -> FileRecord (with an encryption part for an
//                   encrypted file: its wrapped data key and nonce, see FileEncryption)
//   file_names      the source's file name -> file sequence u32 BE
//   gtids           the caller's GTID key bytes -> EventKey of the transaction's first event
//   gtid_positions  EventKey of a transaction's first event -> its GTID key bytes (to trim and purge)
//   meta            "format_version" -> u32 LE; "resume_point" -> ResumeRecord
//   relay_meta      the relay's own durable key/values (source identity, server_uuid, ...)
//   replicas        server_id u32 BE -> ReplicaRecord (replica_record.h): the replicas that
//                   dumped from the relay; added without a format version change (see there)
//   frames          EventKey (file sequence, stored position where the frame's bytes start) ->
//                   FrameView: where a compressed file's frame lies in its `.events.zst` file
//                   (compression.h); only files whose record has a compression part have frames
//   gtid_lists      file sequence u32 BE -> GtidList: a compressed file's gtid_positions entries,
//                   moved into one packed value when it is compressed (version 5); only to
//                   remove the file's GTIDs from `gtids` when it is purged
//
// Big-endian keys sort numerically under LMDB's default memcmp order, so appends arrive in key
// order (MDB_APPEND). Values are little-endian, like the binlog itself. Decoding never trusts a
// length: every field is bounds-checked and a malformed value is an Error naming the field.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/at_rest_crypto.h"
#include "storage/store_types.h"

namespace brelay::storage {

// Version 6: the layout described in this header, event bytes in event files (version 1 kept them
// in the LMDB run values). Version 3 added encryption at rest (a file record's encryption part, a
// run's MAC), version 4 compressed files (a file record's compression part, the frames database),
// version 5 dropped the runs of compressed files and packed their gtid_positions entries into
// gtid_lists (issue 17: a u32 per event and about 40 bytes per transaction were most of the index
// of a compressed store; a version 4 reader cannot read such a file, hence the version), version 6
// gave encrypted files keystream segments (a file record's keystream part, see FileEncryption: a
// position written again is encrypted under a fresh nonce; a version 5 reader would decrypt such
// bytes under the wrong one). Every version 2 to 5 value is a valid version 6 value, and a version
// 4 store's compressed files read the same with their runs and GTID positions as without: such a
// store converts by dropping the runs, packing the positions and writing the new version number
// (kOldestConvertibleStoreFormatVersion on); an open for writing then gives every encrypted file
// record its keystream part (BinlogStore::open).
inline constexpr std::uint32_t kStoreFormatVersion = 6;
inline constexpr std::uint32_t kOldestConvertibleStoreFormatVersion = 2;

namespace db_name {
inline constexpr const char* kEvents = "events";
inline constexpr const char* kFiles = "files";
inline constexpr const char* kFileNames = "file_names";
inline constexpr const char* kGtids = "gtids";
inline constexpr const char* kGtidPositions = "gtid_positions";
inline constexpr const char* kMeta = "meta";
inline constexpr const char* kRelayMeta = "relay_meta";
inline constexpr const char* kReplicas = "replicas";
inline constexpr const char* kFrames = "frames";
inline constexpr const char* kGtidLists = "gtid_lists";
}  // namespace db_name

namespace meta_key {
inline constexpr std::string_view kFormatVersion = "format_version";
inline constexpr std::string_view kResumePoint = "resume_point";
}  // namespace meta_key

// A place in the stored stream: the store's sequence number of a file (assigned in order, never
// reused) and a byte position in that file. Orders like the stream.
struct EventKey {
  std::uint32_t file_seq = 0;
  std::uint64_t position = 0;

  // clang-tidy 14 takes the defaulted <=> for a literal 0 compared with a pointer.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  auto operator<=>(const EventKey&) const = default;

  std::array<std::uint8_t, 12> encode() const;
  static Result<EventKey> decode(ByteView key);
};

std::array<std::uint8_t, 4> encode_file_key(std::uint32_t file_seq);
Result<std::uint32_t> decode_file_key(ByteView key);

Bytes encode_u32_value(std::uint32_t value);
Result<std::uint32_t> decode_u32_value(ByteView value, std::string_view what);

// How a file is encrypted (at_rest_crypto.h): its data key wrapped by a master key, the nonce of
// its AES-256-CTR stream and the later nonces of its keystream segments (crypto::NonceSegment:
// where the writer wrote a position again, see store_writer.h), and the MAC (crypto::run_mac) of
// its stored FDE and previous-GTID bytes, which are encrypted under the data key and the first
// nonce in their own counter domain (kMetadataDomain). Encoded after the previous GTIDs as u8 1,
// u32 LE master key id, 60 bytes wrapped key, 8 bytes nonce, 32 bytes MAC; then (version 6) the
// keystream part: u8 3, u32 LE segment count, per segment u64 LE start and 8 bytes nonce (starts
// strictly increasing, below kSegmentRunDomain). A record with the keystream part has a MAC that
// also binds the nonce and the segments (file_ciphers.h); one without it (versions 3 to 5) has
// one segment, the first nonce, and a MAC over the FDE and previous GTIDs only, until an open
// for writing converts it.
struct FileEncryption {
  // CTR offsets and MAC offsets of the record's FDE and previous GTIDs start here; event bytes
  // sit at file offsets below 2^63, so the two never share a counter block.
  static constexpr std::uint64_t kMetadataDomain = std::uint64_t{1} << 63;
  // Run MACs of runs under a keystream segment are made at their position plus this (file_ciphers.h),
  // apart from those of runs before the first segment: keystream segments start below it.
  static constexpr std::uint64_t kSegmentRunDomain = std::uint64_t{1} << 62;
  // The MAC of a lone round's commit record in an encrypted file (commit_record.h) is made at the
  // round's first position plus this, a range no FDE size of a metadata MAC reaches; such a round
  // begins below kCommitRecordPositions.
  static constexpr std::uint64_t kCommitRecordDomain = kMetadataDomain + (std::uint64_t{1} << 61);
  static constexpr std::uint64_t kCommitRecordPositions = std::uint64_t{1} << 61;

  crypto::WrappedKey data_key;
  crypto::FileNonce nonce{};
  crypto::Mac256 metadata_mac{};
  bool keystream_part = true;  // false only as decoded from a record of version 3 to 5
  std::vector<crypto::NonceSegment> segments;
};

// How a sealed file is stored compressed (compression.h): its frames (the `frames` database) in
// `events/<seq>.events.zst`. Encoded after the encryption part, if any, as u8 2, u8 algorithm (1 =
// zstd), u64 LE compressed file size, u32 LE frame count, 16 bytes salt of the frame key (zero for
// a plain file).
struct FileCompression {
  static constexpr std::uint8_t kZstd = 1;

  std::uint8_t algorithm = kZstd;
  std::uint64_t compressed_bytes = 0;
  std::uint32_t frames = 0;
  std::array<std::uint8_t, 16> salt{};
};

// Per-file metadata. end_position only advances at transaction boundaries: [first_position,
// end_position) holds complete transactions only (events past it are an unfinished transaction
// that recovery trims). Event timestamps are the source's (0 = no event yet); created_time and
// last_write_time are the relay's clock when the file began and when its data last committed.
struct FileRecordView {
  bool closed = false;
  std::uint64_t first_position = 0;
  std::uint64_t end_position = 0;
  std::int64_t first_timestamp = 0;
  std::int64_t last_timestamp = 0;
  std::int64_t created_time = 0;
  std::int64_t last_write_time = 0;
  std::string_view name;
  ByteView format_description;  // encrypted for an encrypted file (file_ciphers.h decrypts)
  ByteView previous_gtids;      // likewise
  // Absent: a plain file (and no bytes are encoded for it, as in version 2).
  std::optional<FileEncryption> encryption;
  // Absent: the file's bytes are in its event file.
  std::optional<FileCompression> compression;

  Bytes encode() const;
  // The views of the result point into `value`.
  static Result<FileRecordView> decode(ByteView value);
};

// The durable resume point: the end of the last complete transaction (an event start, where the
// next event will be appended), with what the caller said about it.
struct ResumeRecordView {
  std::uint32_t file_seq = 0;
  std::uint64_t position = 0;
  std::int64_t timestamp = 0;  // the boundary event's timestamp
  std::string_view file_name;
  ByteView last_gtid;          // GTID of the last complete transaction (empty: none yet)
  ByteView executed_gtid_set;  // as given with the boundary event (empty: not given)

  Bytes encode() const;
  static Result<ResumeRecordView> decode(ByteView value);
};

// Where the source's stream continues after a file that ended with a real ROTATE: the closed file,
// the file the ROTATE named and the position in it. The upstream keeps it in relay_meta (under its
// own key) so that a restarted relay asks for the next file directly, the closed one may be purged
// on the source by then. Layout: u8 version (kVersion), closed file and next file as
// length-encoded text, u64 LE position. Stores written before version 1 hold the text
// "<closed file>\n<next file>\n<position>"; decode() reads that form too (checked), so that an
// upgrade keeps the continuation. encode() always writes the binary form.
struct NextFileRecord {
  static constexpr std::uint8_t kVersion = 1;

  std::string closed_file;
  std::string next_file;
  std::uint64_t next_position = 4;

  Bytes encode() const;
  // An error for a short, trailing or unknown-version value, an empty file name, or text that is
  // not the old form (a position that is not a decimal number).
  static Result<NextFileRecord> decode(ByteView value);

  bool operator==(const NextFileRecord&) const = default;
};

// The index entry of a stored run of consecutive events of one file, keyed by its first event's
// position; the events' bytes are in the file's event file (event_files.h) from that position on:
//   mac          32 bytes, runs of encrypted files only: crypto::run_mac of the run's stored
//                (encrypted) bytes at its position, and from version 6 on of the nonce of the
//                keystream segment it lies under, if any (file_ciphers.h, kSegmentRunDomain)
//   event_ends   u32 LE per event: the offset from the run's start where that event ends
//   event_count  u32 LE
// The end table makes a seek inside the run a binary search instead of a walk through event
// headers. parse() reads the index alone; with_payload() adds the bytes from the event file.
class RunView {
 public:
  // Checks the whole layout (count, table size with or without a MAC, ends strictly increasing).
  static Result<RunView> parse(ByteView value);
  static std::size_t encoded_size(std::size_t event_count, bool with_mac = false) {
    return 4 * event_count + 4 + (with_mac ? crypto::Mac256().size() : 0);
  }
  // Fills a value of encoded_size(event_ends.size(), mac != nullptr) bytes.
  static void write(std::span<std::uint8_t> value, std::span<const std::uint32_t> event_ends,
                    const crypto::Mac256* mac = nullptr);

  // The events' bytes, as many as payload_size() (checked by the caller against the event file).
  RunView with_payload(ByteView payload) const {
    RunView run = *this;
    run.payload_ = payload;
    return run;
  }
  std::size_t payload_size() const { return payload_size_; }
  ByteView payload() const { return payload_; }
  std::size_t event_count() const { return count_; }
  // The run's MAC (runs of encrypted files), nullopt for a run stored without one.
  std::optional<crypto::Mac256> mac() const;
  std::uint32_t event_start(std::size_t index) const { return index == 0 ? 0 : event_end(index - 1); }
  std::uint32_t event_end(std::size_t index) const;
  // The index of the event that starts exactly at `offset`, if one does.
  std::optional<std::size_t> event_starting_at(std::uint64_t offset) const;
  // The index of the first event that starts at or after `offset` (event_count() when none does).
  std::size_t first_event_at_or_after(std::uint64_t offset) const;
  // The number of leading events that end at or before `offset`.
  std::size_t events_ending_by(std::uint64_t offset) const;

 private:
  ByteView payload_;
  std::size_t payload_size_ = 0;
  const std::uint8_t* ends_ = nullptr;
  const std::uint8_t* mac_ = nullptr;
  std::size_t count_ = 0;
};

// A frame of a compressed file (compression.h): where its compressed (for an encrypted file, then
// encrypted) bytes lie in the `.events.zst` file and how many stored bytes they decompress to.
// Layout: u64 LE offset, u32 LE compressed size, u32 LE stored size, then for an encrypted file the
// frame's 32-byte MAC (crypto::run_mac layout: IV then tag) over its stored position, both sizes and
// its encrypted bytes at its offset (frame_codec.h).
struct FrameView {
  // A frame holds at most one event more than CompressionOptions::frame_bytes, and an event is at
  // most 1 GiB: a larger claim is damage, not something to allocate for.
  static constexpr std::uint32_t kMaxStoredBytes = (std::uint32_t{1} << 30) + (std::uint32_t{64} << 20);

  std::uint64_t offset = 0;
  std::uint32_t compressed_size = 0;
  std::uint32_t stored_size = 0;
  std::optional<crypto::Mac256> mac;

  Bytes encode() const;
  static Result<FrameView> decode(ByteView value);
};

// The ends of the events a compressed frame's stored bytes hold, back to back from the frame's
// start (the compressor cuts frames at event boundaries and checks that every event's binlog
// header gives its stored length), as a RunView value without a MAC: every binlog event starts
// with a 19-byte header whose u32 LE at offset 9 is the event's length. An Error (the caller
// reports it as damage) for a header cut by the frame's end, a length under 19 bytes or one past
// the frame's end; linear in the frame's events.
inline constexpr std::size_t kEventHeaderBytes = 19;
inline constexpr std::size_t kEventLengthOffset = 9;
Result<Bytes> frame_event_ends(ByteView frame);
// The length a stored event's header gives (nullopt: shorter than a header).
std::optional<std::uint32_t> event_header_length(ByteView event);

// A compressed file's GTIDs (the `gtid_lists` database): for each transaction that starts in it,
// its position and GTID key, in position order. Layout: u32 LE entry count, u32 LE packed size,
// then the packed entries compressed as one zstd frame with its checksum; packed, an entry is the
// distance of its position from the previous entry's (the first from 0) and the key's length, both
// MySQL length-encoded integers, then the key. Sysbench's transactions take about 5 bytes each
// this way, against about 80 in the two GTID databases' nodes.
struct GtidListEntry {
  std::uint64_t position = 0;
  Bytes gtid;

  bool operator==(const GtidListEntry&) const = default;
};
Result<Bytes> encode_gtid_list(std::span<const GtidListEntry> entries);
// Errors for a short or trailing value, a packed size over kMaxGtidListBytes or other than the
// frame's, a zstd error, entries out of order or a count that does not match.
// The packed entries are at most kMaxGtidListBytes (a 1 GiB file of 100-byte transactions packs
// about 210 MB) and at most kMaxGtidListRatio times the zstd frame (real lists pack 10-20 times),
// so a damaged value's allocation stays within 1024 times its own size and 256 MiB.
inline constexpr std::uint32_t kMaxGtidListBytes = std::uint32_t{256} << 20;
inline constexpr std::uint32_t kMaxGtidListRatio = 1024;
Result<std::vector<GtidListEntry>> decode_gtid_list(ByteView value);

// Owning copies for the public API.
FileInfo to_file_info(std::uint32_t file_seq, const FileRecordView& record);
ResumePoint to_resume_point(const ResumeRecordView& record);
// A view of `info` for encoding; valid while `info` is.
FileRecordView record_view(const FileInfo& info);

}  // namespace brelay::storage
