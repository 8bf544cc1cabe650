#include "storage/file_ciphers.h"

#include <algorithm>

#include "common/byte_writer.h"

namespace brelay::storage {
namespace {

// Version 6 metadata MACs sit at offsets with this bit set, above every version 3 to 5 one.
constexpr std::uint64_t kKeystreamForm = std::uint64_t{1} << 62;

// What the MAC of a record's encrypted FDE and previous GTIDs covers: with the keystream part, the
// nonce and the segments (u32 LE count, u64 LE start and nonce each), then both fields back to
// back; at an offset in the metadata domain that binds where the FDE ends and which form it is.
Bytes metadata_bytes(const FileEncryption& encryption, ByteView fde, ByteView previous) {
  ByteWriter bytes;
  if (encryption.keystream_part) {
    bytes.bytes(encryption.nonce).u32(static_cast<std::uint32_t>(encryption.segments.size()));
    for (const crypto::NonceSegment& segment : encryption.segments)
      bytes.u64(segment.start).bytes(segment.nonce);
  }
  bytes.bytes(fde).bytes(previous);
  return std::move(bytes).take();
}

std::uint64_t metadata_offset(const FileEncryption& encryption, ByteView fde) {
  return FileEncryption::kMetadataDomain + (encryption.keystream_part ? kKeystreamForm : 0) + fde.size();
}

Result<crypto::Mac256> metadata_mac(const FileCipher& cipher, const FileEncryption& encryption, ByteView fde,
                                    ByteView previous) {
  return crypto::run_mac(cipher.key, metadata_offset(encryption, fde),
                         metadata_bytes(encryption, fde, previous));
}

// Checks a stored record's metadata MAC (in the form its parts say).
Status check_metadata_mac(const FileRecordView& record, const FileCipher& cipher) {
  const FileEncryption& encryption = *record.encryption;
  const ByteView fde = record.format_description;
  BRELAY_ASSIGN_OR_RETURN(const bool authentic,
                          crypto::run_mac_matches(cipher.key, metadata_offset(encryption, fde),
                                                  metadata_bytes(encryption, fde, record.previous_gtids),
                                                  encryption.metadata_mac));
  if (!authentic) {
    return make_error_code(kStoreDamagedCode,
                           "the stored FDE, previous GTIDs and nonces of binary log {} fail their "
                           "authentication check (MAC mismatch): the store's index was changed on disk",
                           record.name);
  }
  return {};
}

// Both fields sit back to back in the metadata domain's CTR stream (FDE first), under the first nonce.
Status apply_metadata_cipher(const FileCipher& cipher, Bytes& fde, Bytes& previous) {
  BRELAY_TRY(crypto::ctr_apply(cipher.key, cipher.nonce, FileEncryption::kMetadataDomain, fde));
  return crypto::ctr_apply(cipher.key, cipher.nonce, FileEncryption::kMetadataDomain + fde.size(), previous);
}

}  // namespace

const crypto::FileNonce* segment_nonce_at(const FileCipher& cipher, std::uint64_t position) {
  const crypto::FileNonce* nonce = nullptr;
  for (const crypto::NonceSegment& segment : cipher.segments) {
    if (segment.start > position) break;
    nonce = &segment.nonce;
  }
  return nonce;
}

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
    keys_by_file_[file_seq] = cipher.key;
  }
  return Created(std::pair{encryption, cipher});
}

Result<std::optional<FileCipher>> FileCiphers::of(std::uint32_t file_seq, const FileRecordView& record) {
  if (!record.encryption) return std::optional<FileCipher>();
  FileCipher cipher;
  cipher.nonce = record.encryption->nonce;
  cipher.segments = record.encryption->segments;
  cipher.unbound_records_accepted = unbound_records_accepted_.load();
  {
    std::lock_guard lock(mutex_);
    if (auto it = keys_by_file_.find(file_seq); it != keys_by_file_.end()) {
      cipher.key = it->second;
      return std::optional<FileCipher>(std::move(cipher));
    }
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
  cipher.key = *key;
  std::lock_guard lock(mutex_);
  keys_by_file_[file_seq] = cipher.key;
  return std::optional<FileCipher>(std::move(cipher));
}

void FileCiphers::forget(std::uint32_t file_seq) {
  std::lock_guard lock(mutex_);
  keys_by_file_.erase(file_seq);  // the key wipes itself
}

Result<Bytes> encode_file_record(const FileInfo& info, const std::optional<FileEncryption>& encryption,
                                 const FileCipher* cipher, std::optional<SealedMetadata>* sealed) {
  FileRecordView record = record_view(info);
  if (!encryption) return record.encode();
  if (cipher == nullptr) return make_error("no data key for encrypted file {}", info.name);
  record.encryption = encryption;
  record.encryption->nonce = cipher->nonce;
  record.encryption->segments = cipher->segments;
  record.encryption->keystream_part = true;
  std::optional<SealedMetadata> fresh;
  if (sealed == nullptr) sealed = &fresh;
  if (!*sealed || (*sealed)->cipher != *cipher || (*sealed)->format_description != info.format_description ||
      (*sealed)->previous_gtids != info.previous_gtids) {
    SealedMetadata made{
        *cipher, info.format_description, info.previous_gtids, info.format_description, info.previous_gtids,
        {}};
    BRELAY_TRY(apply_metadata_cipher(*cipher, made.stored_format_description, made.stored_previous_gtids));
    BRELAY_ASSIGN_OR_RETURN(made.mac,
                            metadata_mac(*cipher, *record.encryption, made.stored_format_description,
                                         made.stored_previous_gtids));
    *sealed = std::move(made);
  }
  record.encryption->metadata_mac = (*sealed)->mac;
  record.format_description = (*sealed)->stored_format_description;
  record.previous_gtids = (*sealed)->stored_previous_gtids;
  return record.encode();
}

Result<FileInfo> decode_file_info(std::uint32_t file_seq, const FileRecordView& record,
                                  const FileCipher* cipher) {
  FileInfo info = to_file_info(file_seq, record);
  if (!record.encryption) return info;
  if (cipher == nullptr) return make_error("no data key for encrypted file {}", record.name);
  if (!record.encryption->keystream_part && !cipher->unbound_records_accepted) {
    return make_error_code(kStoreDamagedCode,
                           "the stored record of binary log {} has the form of a store older than version 6 "
                           "(its MAC does not bind its nonce) in a version 6 store: it failed its check when "
                           "the store was converted, or was put back from an older copy; the store's index "
                           "was changed on disk",
                           record.name);
  }
  BRELAY_TRY(check_metadata_mac(record, *cipher));
  BRELAY_TRY(apply_metadata_cipher(*cipher, info.format_description, info.previous_gtids));
  return info;
}

Result<Bytes> add_keystream_part(const FileRecordView& record, const FileCipher& cipher) {
  if (!record.encryption || record.encryption->keystream_part)
    return make_error("internal: binary log {} needs no keystream part", record.name);
  BRELAY_TRY(check_metadata_mac(record, cipher));
  FileRecordView upgraded = record;
  upgraded.encryption->keystream_part = true;
  BRELAY_ASSIGN_OR_RETURN(
      upgraded.encryption->metadata_mac,
      metadata_mac(cipher, *upgraded.encryption, record.format_description, record.previous_gtids));
  return upgraded.encode();
}

}  // namespace brelay::storage
