// Commit records: the durable record of a lone commit's end that recovery trusts (issue 17). A
// lone group commit (one round of complete transactions appended to the newest file, nothing else
// waiting) writes its event bytes and, right after them (in the same write; for an encrypted file
// in a second one, see below), a commit record: what
// the round's LMDB index will say (each event's size, timestamp, boundary flag, GTID and executed
// set; relay metadata puts), where the round begins and ends, and a CRC-32 of its event bytes. One
// fdatasync of the event file then makes the round durable, and it is acknowledged; the LMDB commit
// that indexes it follows off that critical path. Recovery (StoreWriter::replay_lone_commit)
// indexes a round whose LMDB commit did not reach the disk from its record, when the record is whole
// (its own CRC), begins exactly where the index ends, ends exactly at the end of the file, and the
// event bytes it covers match their CRC (and, in an encrypted file, its MAC); otherwise the file is
// cut back to the index as before.
//
// Layout at the round's end position E (the byte after its last event), all little-endian:
//   body: u32 version (1, or 2 sealed: see below), u32 file_seq, u64 first position, u64 end
//         position E, i64 the round's clock, u32 CRC-32 of the event bytes [first, E) as stored, u32 entry
//         count, then per entry:
//         u8 1 (event): u32 size, i64 timestamp, u8 boundary, u32 + GTID, u32 + executed set;
//         u8 2 (meta):  u32 + key, u32 + value;
//         version 2: then the 32-byte MAC (crypto::run_mac's form: IV, tag)
//   footer (16 bytes): u32 body length, u32 CRC-32 of the body, u64 kCommitRecordMagic.
// The record lies past the file's indexed end, so readers never see it; the next round overwrites
// it only after the LMDB commit of this round is durable (the writer orders that), and recovery
// cuts it with everything else past the index.
//
// In an encrypted file (version 2) the event bytes are stored encrypted, and the record is written
// plain after them: its fields are what the index keeps plain too (file_ciphers.h; its CRC is of
// the encrypted bytes, so it says nothing of the plain ones), and a record outside the file's
// keystream leaves the positions it takes free for the next round's bytes under the nonce in force
// (no keystream segment needed). The body then ends with a 32-byte AES-GMAC (crypto::RunMacer under
// the file's data key) at offset FileEncryption::kCommitRecordDomain + the first position, over the
// keystream nonce the round's bytes are under, the body before the MAC and the round's stored
// bytes. A CRC alone would not do there: anyone can write bytes with a matching CRC, and recovery
// would index, MAC and serve them (decrypted to what the writer chose bit by bit: AES-CTR lets one
// flip chosen plaintext bits). With the MAC, only a holder of the key can make a round that
// recovery takes. An encrypted file's version 1 record, or a plain file's version 2 one, is not a
// record.
//
// Storage-internal. Not thread-safe; used by the writer thread and by recovery.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/at_rest_crypto.h"
#include "storage/event_files.h"
#include "storage/file_ciphers.h"
#include "storage/write_batch.h"

namespace brelay::storage {

// CRC-32 (zlib's) of `bytes`, continuing from `crc` (0 to start).
std::uint32_t commit_record_crc(ByteView bytes, std::uint32_t crc = 0);

// What seals an encrypted file's record (version 2): the file's MAC context, the nonce the
// round's bytes are under, and those bytes as stored (encrypted), in order.
struct CommitRecordSeal {
  crypto::RunMacer* macer = nullptr;
  crypto::FileNonce nonce{};
  std::vector<ByteView> stored;
};

// Builds one commit record, entry by entry in stream order.
class CommitRecordBuilder {
 public:
  void add_event(std::size_t size, std::int64_t timestamp, bool boundary, ByteView gtid,
                 ByteView executed_set);
  void add_meta(std::string_view key, ByteView value);
  // The record for events [first_position, end_position) of `file_seq` whose bytes as stored have
  // CRC `payload_crc`, indexed at clock `now`; sealed (version 2) with `seal`. Errors: OpenSSL's,
  // or a sealed round beginning at or past FileEncryption::kCommitRecordPositions.
  Result<Bytes> finish(std::uint32_t file_seq, std::uint64_t first_position, std::uint64_t end_position,
                       std::int64_t now, std::uint32_t payload_crc,
                       const CommitRecordSeal* seal = nullptr) const;

 private:
  Bytes entries_;
  std::uint32_t count_ = 0;
};

// A round read back from its commit record: the batch to index again (its events' plain bytes)
// and the clock it had; for an encrypted file, the round's bytes as stored, at the same offsets as
// in the batch's payload (what its run MACs cover).
struct ReplayedRound {
  WriteBatch batch;
  std::int64_t now = 0;
  std::uint64_t end_position = 0;
  Bytes stored;
};

// The round recorded at the end of event file `file_seq` when its record is whole, begins at
// `indexed_end` (where the committed index ends) and its event bytes verify; nullopt otherwise
// (no record, a torn one, one that the index already covers, for an encrypted file one whose MAC
// fails under `cipher`, the file's as its committed record states it; null for a plain file).
// Errors: the file cannot be read, OpenSSL fails.
Result<std::optional<ReplayedRound>> read_commit_record(EventFiles& files, std::uint32_t file_seq,
                                                        std::uint64_t indexed_end, const FileCipher* cipher);

}  // namespace brelay::storage
