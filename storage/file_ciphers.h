// FileCiphers: the data keys of a store's encrypted files (issue 17), unwrapped from their file
// records with the master keys of the configured key file (at_rest_crypto.h) and kept for the
// store's lifetime, so the writer, readers and rekey do not unwrap on every use. A file record
// without an encryption part is a plain file (version 2 stores, or files written without a key):
// it stays plain, and a plain file needs no key.
//
// Also here: the encoding of an encrypted file's record (its FDE and previous-GTID bytes are
// encrypted under the file's data key, see FileEncryption) and the way back to a plain FileInfo.
//
// Design (the storage layout part of design.md, format version 3, keystream segments version 6):
//   - Encrypted: every event byte of an encrypted file (AES-256-CTR, counter = nonce || offset/16,
//     so any position decrypts alone; the nonce is the file's first one, or from a keystream
//     segment's start on that segment's), and the FDE and previous-GTID bytes of its file record
//     (same key, the first nonce, counter offsets from FileEncryption::kMetadataDomain = 2^63,
//     MAC'd together with the nonce and the segments, so a changed nonce is damage too).
//   - Plain (metadata, no source row data): file names, positions, run end tables, GTID keys and
//     their positions, timestamps, the resume point (its last GTID and executed GTID set), relay_meta
//     (source identity: version string, ids, variables), remembered replicas.
//   - Tamper checks: each run of an encrypted file carries an AES-256-GMAC (crypto::run_mac, random
//     IV stored with the tag) of its stored bytes at its position, and of its keystream segment's
//     nonce (kSegmentRunDomain) (in the run's LMDB value, written in the commit that indexes the
//     run); readers check it before decrypting and report a mismatch as damage (kStoreDamagedCode),
//     never serving it. GMAC rather than HMAC-SHA256: ingest cost.
//   - Runs of encrypted files end at transaction boundaries or hold part of one unfinished
//     transaction (writer_index.cc), so no run is ever cut (its MAC stays right) and every run a
//     reader reaches has bytes that no longer change, also where it reaches past the durable end.
//   - No keystream encrypts two plaintexts: the writer writes a position again (after an abandoned
//     transaction, a failed round, a restart) only under a fresh random nonce, a keystream segment
//     recorded in the file record of the commit that indexes its bytes (store_writer.h). Positions
//     that only held unencrypted bytes (a lone round's commit record, commit_record.h) are written
//     under the nonce in force: no keystream was used there.
//   - Limits: the reader checks the MAC over the shared map, then copies and decrypts; someone who
//     can write the event files while the relay reads them (not the disk/snapshot/backup reader this
//     guards against) could swap bytes between the two. Someone who can write the index can put an
//     older version of a record or run back (a MAC does not say which version is the newest): an
//     older record without a later keystream segment makes the runs under that segment fail their
//     checks (their MACs bind its nonce); an older run value fails its check against the bytes
//     written again since.
//
// Threads: every method may be called from any thread (the cache is locked).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/at_rest_crypto.h"
#include "storage/store_format.h"
#include "storage/store_types.h"

namespace brelay::storage {

// What encrypting and decrypting one file's bytes takes: its data key, first nonce and keystream
// segments (FileEncryption).
struct FileCipher {
  crypto::Key256 key{};
  crypto::FileNonce nonce{};
  std::vector<crypto::NonceSegment> segments;
  // Whether a record without the keystream part (versions 3 to 5: its MAC does not bind the nonce)
  // is accepted: only in a store not converted to version 6 yet (a read-only open of an older
  // store). In a version 6 store such a record was put back from an older copy, or the conversion
  // left it because it failed its check: damage either way.
  bool unbound_records_accepted = false;

  bool operator==(const FileCipher&) const = default;
};

// The nonce of the keystream segment in force at `position` of the file; null before the first
// segment (the file's first nonce).
const crypto::FileNonce* segment_nonce_at(const FileCipher& cipher, std::uint64_t position);

// The MAC of a run (crypto::RunMacer) whose bytes lie under a keystream segment (version 6) binds
// the segment's nonce: begin(position + kSegmentRunDomain), update(nonce), update(stored bytes),
// finish(). A run before the first segment is MAC'd as in versions 3 to 5: begin(position),
// update(stored bytes). A record put back without a run's segment then makes the run fail its
// check, where its bytes would otherwise decrypt to noise under the wrong nonce. (Runs never span
// a segment's start: the writer starts one only where it writes again from a transaction's start,
// and a run starts there too.)
inline constexpr std::uint64_t kSegmentRunDomain = FileEncryption::kSegmentRunDomain;

class FileCiphers {
 public:
  // `keys`: the key file's master keys; null when no encryption_key_file is configured.
  FileCiphers(std::string directory, std::shared_ptr<const crypto::MasterKeys> keys)
      : directory_(std::move(directory)), keys_(std::move(keys)) {}

  bool has_keys() const { return keys_ != nullptr; }
  // What of() gives as FileCipher::unbound_records_accepted (false until set).
  void set_unbound_records_accepted(bool accepted) { unbound_records_accepted_.store(accepted); }
  const crypto::MasterKeys* keys() const { return keys_.get(); }

  // A fresh data key and nonce for new file `file_seq`, wrapped under the current master key and
  // remembered; nullopt without keys (the file is plain). The metadata MAC is filled by
  // encode_file_record().
  Result<std::optional<std::pair<FileEncryption, FileCipher>>> create(std::uint32_t file_seq);
  // The cipher of a stored file, its nonce and segments as `record` has them (the data key is
  // unwrapped once per file); nullopt for a plain file. An encrypted file without the master key
  // it names (or with a key that does not authenticate) is an error naming the key id. The nonce
  // and segments are checked with the record's MAC by decode_file_info(), not here.
  Result<std::optional<FileCipher>> of(std::uint32_t file_seq, const FileRecordView& record);
  // Forgets a purged file's key.
  void forget(std::uint32_t file_seq);

 private:
  const std::string directory_;
  const std::shared_ptr<const crypto::MasterKeys> keys_;
  std::mutex mutex_;
  std::map<std::uint32_t, crypto::Key256> keys_by_file_;  // guarded by mutex_
  std::atomic<bool> unbound_records_accepted_{false};
};

// An encrypted record's FDE and previous GTIDs as stored and their metadata MAC, with what they
// were made from: the writer keeps them for its newest file, whose record it writes again at each
// commit (its end moves) with the same FDE, previous GTIDs and cipher most of the time.
struct SealedMetadata {
  FileCipher cipher;
  Bytes format_description;  // plain
  Bytes previous_gtids;      // plain
  Bytes stored_format_description;
  Bytes stored_previous_gtids;
  crypto::Mac256 mac{};
};

// The record of `info` as stored: plain as record_view(info).encode(), or, with `encryption` (its
// wrapped data key), its FDE and previous GTIDs encrypted under `cipher` and authenticated, with
// the cipher's nonce and segments (which the record states: the cipher is what encrypts), by the
// record's metadata MAC (the keystream part is always written). With `sealed`, the encrypted parts
// and MAC in it are used when they were made from the same cipher, FDE and previous GTIDs, and
// replaced otherwise.
Result<Bytes> encode_file_record(const FileInfo& info, const std::optional<FileEncryption>& encryption,
                                 const FileCipher* cipher, std::optional<SealedMetadata>* sealed = nullptr);
// The plain FileInfo of a stored record: to_file_info() for a plain file, and for an encrypted one
// (`cipher` required) its FDE and previous GTIDs (and the keystream part's nonce and segments)
// checked against the metadata MAC and decrypted. A MAC mismatch is an error with code
// kStoreDamagedCode naming the file.
Result<FileInfo> decode_file_info(std::uint32_t file_seq, const FileRecordView& record,
                                  const FileCipher* cipher);

// A version 3 to 5 encrypted record (no keystream part) as version 6 stores it: its MAC checked in
// the old form (whatever `cipher` accepts), then made again over the nonce (no segments), FDE and
// previous GTIDs. The same error as decode_file_info() for a mismatch.
Result<Bytes> add_keystream_part(const FileRecordView& record, const FileCipher& cipher);

}  // namespace brelay::storage
