#include "storage/file_ciphers.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace brelay::storage {
namespace {

// The MAC of a record's encrypted FDE and previous GTIDs: run_mac over both back to back, at an
// offset in the metadata domain that also binds where the FDE ends.
Bytes metadata_bytes(ByteView fde, ByteView previous) {
  Bytes both(fde.begin(), fde.end());
  both.insert(both.end(), previous.begin(), previous.end());
  return both;
}

Result<crypto::Mac256> metadata_mac(const FileCipher& cipher, ByteView fde, ByteView previous) {
  return crypto::run_mac(cipher.key, FileEncryption::kMetadataDomain + fde.size(),
                         metadata_bytes(fde, previous));
}

// Both fields sit back to back in the metadata domain's CTR stream (FDE first).
Status apply_metadata_cipher(const FileCipher& cipher, Bytes& fde, Bytes& previous) {
  BRELAY_TRY(crypto::ctr_apply(cipher.key, cipher.nonce, FileEncryption::kMetadataDomain, fde));
  return crypto::ctr_apply(cipher.key, cipher.nonce, FileEncryption::kMetadataDomain + fde.size(), previous);
}

}  // namespace

Result<std::optional<std::pair<FileEncryption, FileCipher>>> FileCiphers::create(std::uint32_t file_seq) {
  using Created = std::optional<std::pair<FileEncryption, FileCipher>>;
  if (!keys_) return Created();
  FileCipher cipher;
  BRELAY_ASSIGN_OR_RETURN(cipher.key, crypto::random_key());
  BRELAY_ASSIGN_OR_RETURN(cipher.nonce, crypto::random_nonce());
  FileEncryption encryption;
  BRELAY_ASSIGN_OR_RETURN(encryption.data_key, crypto::wrap_data_key(keys_->current(), cipher.key));
  encryption.nonce = cipher.nonce;
  {
    std::lock_guard lock(mutex_);
    ciphers_[file_seq] = cipher;
  }
  return Created(std::pair{encryption, cipher});
}

Result<std::optional<FileCipher>> FileCiphers::of(std::uint32_t file_seq, const FileRecordView& record) {
  if (!record.encryption) return std::optional<FileCipher>();
  {
    std::lock_guard lock(mutex_);
    if (auto it = ciphers_.find(file_seq); it != ciphers_.end()) return std::optional<FileCipher>(it->second);
  }
  const std::uint32_t master_id = record.encryption->data_key.master_id;
  if (!keys_) {
    return make_error(
        "the store in {} holds encrypted files: the store needs master key id {} from encryption_key_file "
        "(set [storage] encryption_key_file to the key file that holds it)",
        directory_, master_id);
  }
  auto key = crypto::unwrap_data_key(*keys_, record.encryption->data_key);
  if (!key) return std::move(key).error().with_context(fmt::format("binary log {}", record.name));
  FileCipher cipher{*key, record.encryption->nonce};
  OPENSSL_cleanse(key->data(), key->size());
  std::lock_guard lock(mutex_);
  ciphers_[file_seq] = cipher;
  return std::optional<FileCipher>(cipher);
}

void FileCiphers::forget(std::uint32_t file_seq) {
  std::lock_guard lock(mutex_);
  if (auto it = ciphers_.find(file_seq); it != ciphers_.end()) {
    OPENSSL_cleanse(it->second.key.data(), it->second.key.size());
    ciphers_.erase(it);
  }
}

Result<Bytes> encode_file_record(const FileInfo& info, const std::optional<FileEncryption>& encryption,
                                 const FileCipher* cipher) {
  FileRecordView record = record_view(info);
  if (!encryption) return record.encode();
  if (cipher == nullptr) return make_error("no data key for encrypted file {}", info.name);
  Bytes fde = info.format_description;
  Bytes previous = info.previous_gtids;
  BRELAY_TRY(apply_metadata_cipher(*cipher, fde, previous));
  record.encryption = encryption;
  BRELAY_ASSIGN_OR_RETURN(record.encryption->metadata_mac, metadata_mac(*cipher, fde, previous));
  record.format_description = fde;
  record.previous_gtids = previous;
  return record.encode();
}

Result<FileInfo> decode_file_info(std::uint32_t file_seq, const FileRecordView& record,
                                  const FileCipher* cipher) {
  FileInfo info = to_file_info(file_seq, record);
  if (!record.encryption) return info;
  if (cipher == nullptr) return make_error("no data key for encrypted file {}", record.name);
  const ByteView fde = record.format_description;
  BRELAY_ASSIGN_OR_RETURN(
      const bool authentic,
      crypto::run_mac_matches(cipher->key, FileEncryption::kMetadataDomain + fde.size(),
                              metadata_bytes(fde, record.previous_gtids), record.encryption->metadata_mac));
  if (!authentic) {
    return make_error_code(kStoreDamagedCode,
                           "the stored FDE and previous GTIDs of binary log {} fail their authentication "
                           "check (MAC mismatch): the store's index was changed on disk",
                           record.name);
  }
  BRELAY_TRY(apply_metadata_cipher(*cipher, info.format_description, info.previous_gtids));
  return info;
}

}  // namespace brelay::storage
