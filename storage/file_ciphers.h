// FileCiphers: the data keys of a store's encrypted files (issue 17), unwrapped from their file
// records with the master keys of the configured key file (at_rest_crypto.h) and kept for the
// store's lifetime, so the writer, readers and rekey do not unwrap on every use. A file record
// without an encryption part is a plain file (version 2 stores, or files written without a key):
// it stays plain, and a plain file needs no key.
//
// Also here: the encoding of an encrypted file's record (its FDE and previous-GTID bytes are
// encrypted under the file's data key, see FileEncryption) and the way back to a plain FileInfo.
//
// Design (the storage layout part of design.md, format version 3):
//   - Encrypted: every event byte of an encrypted file (AES-256-CTR, counter = file nonce || offset/16,
//     so any position decrypts alone), and the FDE and previous-GTID bytes of its file record (same
//     key and nonce, counter offsets from FileEncryption::kMetadataDomain = 2^63, MAC'd).
//   - Plain (metadata, no source row data): file names, positions, run end tables, GTID keys and
//     their positions, timestamps, the resume point (its last GTID and executed GTID set), relay_meta
//     (source identity: version string, ids, variables), remembered replicas.
//   - Tamper checks: each run of an encrypted file carries an AES-256-GMAC (crypto::run_mac, random
//     IV stored with the tag) of its stored bytes at its position (in the run's LMDB value, written
//     in the commit that indexes the run); readers check it before decrypting and report a mismatch
//     as damage (kStoreDamagedCode), never serving it. GMAC rather than HMAC-SHA256: ingest cost.
//   - Runs of encrypted files end at transaction boundaries or hold part of one unfinished
//     transaction (writer_index.cc), so no run is ever cut (its MAC stays right) and every run a
//     reader reaches has bytes that no longer change, also where it reaches past the durable end.
//   - Limits: the reader checks the MAC over the shared map, then copies and decrypts; someone who
//     can write the event files while the relay reads them (not the disk/snapshot/backup reader this
//     guards against) could swap bytes between the two. Rewriting a position after the durable end
//     (abandoned transaction, recovery) reuses its keystream, which is harmless when the source
//     sends the same bytes for the same file and position, as it does.
//
// Threads: every method may be called from any thread (the cache is locked).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/at_rest_crypto.h"
#include "storage/store_format.h"
#include "storage/store_types.h"

namespace brelay::storage {

// What encrypting and decrypting one file's bytes takes.
struct FileCipher {
  crypto::Key256 key{};
  crypto::FileNonce nonce{};
};

class FileCiphers {
 public:
  // `keys`: the key file's master keys; null when no encryption_key_file is configured.
  FileCiphers(std::string directory, std::shared_ptr<const crypto::MasterKeys> keys)
      : directory_(std::move(directory)), keys_(std::move(keys)) {}

  bool has_keys() const { return keys_ != nullptr; }
  const crypto::MasterKeys* keys() const { return keys_.get(); }

  // A fresh data key and nonce for new file `file_seq`, wrapped under the current master key and
  // remembered; nullopt without keys (the file is plain). The metadata MAC is filled by
  // encode_file_record().
  Result<std::optional<std::pair<FileEncryption, FileCipher>>> create(std::uint32_t file_seq);
  // The cipher of a stored file; nullopt for a plain file. An encrypted file without the master key
  // it names (or with a key that does not authenticate) is an error naming the key id.
  Result<std::optional<FileCipher>> of(std::uint32_t file_seq, const FileRecordView& record);
  // Forgets a purged file's key.
  void forget(std::uint32_t file_seq);

 private:
  const std::string directory_;
  const std::shared_ptr<const crypto::MasterKeys> keys_;
  std::mutex mutex_;
  std::map<std::uint32_t, FileCipher> ciphers_;  // guarded by mutex_
};

// The record of `info` as stored: plain as record_view(info).encode(), or, with `encryption`, its FDE
// and previous GTIDs encrypted under `cipher` and authenticated by encryption->metadata_mac.
Result<Bytes> encode_file_record(const FileInfo& info, const std::optional<FileEncryption>& encryption,
                                 const FileCipher* cipher);
// The plain FileInfo of a stored record: to_file_info() for a plain file, and for an encrypted one
// (`cipher` required) its FDE and previous GTIDs checked against the metadata MAC and decrypted. A
// MAC mismatch is an error with code kStoreDamagedCode naming the file.
Result<FileInfo> decode_file_info(std::uint32_t file_seq, const FileRecordView& record,
                                  const FileCipher* cipher);

}  // namespace brelay::storage
