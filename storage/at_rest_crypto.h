// At-rest encryption primitives for the store (issue 17): master keys from a key file, per-file
// data keys wrapped by a master key (AES-256-GCM), event bytes under AES-256-CTR with the counter
// derived from the byte offset (any position decrypts on its own, so readers can seek), and an AES-
// GMAC per committed run under a key derived from the data key. Functions and per-file contexts;
// the store decides where wrapped keys and MACs live (the LMDB index) and when they are checked.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX

namespace brelay::storage::crypto {

// A 256-bit key that wipes its bytes when it goes: data keys are copied into the writer's and the
// readers' cipher states, the crypto helper's plans and the index caches, and no copy stays behind
// in freed memory (or a core dump) once its holder is gone.
struct Key256 : std::array<std::uint8_t, 32> {
  ~Key256();
};
using Mac256 = std::array<std::uint8_t, 32>;
using FileNonce = std::array<std::uint8_t, 8>;

// Where a file's AES-256-CTR keystream takes a fresh nonce: the bytes from `start` on (up to the
// next segment's start) are encrypted under `nonce` instead of the file's first nonce. The store's
// writer starts one whenever it writes a position that it may already have written under the nonce
// in force (store_writer.h), so that no keystream encrypts two different plaintexts.
struct NonceSegment {
  std::uint64_t start = 0;
  FileNonce nonce{};

  bool operator==(const NonceSegment&) const = default;
};

struct MasterKey {
  std::uint32_t id = 0;
  Key256 key{};
};

// The master keys of a key file; current() (the highest id) wraps new data keys.
class MasterKeys {
 public:
  explicit MasterKeys(std::vector<MasterKey> keys);
  const MasterKey& current() const { return keys_.back(); }
  const MasterKey* find(std::uint32_t id) const;
  std::size_t size() const { return keys_.size(); }

 private:
  std::vector<MasterKey> keys_;  // sorted by id, not empty
};

// Parses "<id> <64 hex chars>" lines; '#' comments and blank lines are skipped. Ids are decimal,
// unique, 1..2^32-1. Errors name the line number and never echo key material.
Result<MasterKeys> parse_key_file(std::string_view text);

// Opens `path`, refuses it unless owned by the effective user with no group/other permission
// bits (like ssh; the message names the file and the chmod/chown fix), then parses it.
Result<MasterKeys> load_key_file(const std::string& path);

// Fresh random key material (OpenSSL RAND_bytes).
Result<Key256> random_key();
Result<FileNonce> random_nonce();

// HMAC-SHA256(key, label || salt): a key for one purpose derived from a data key (the run MAC key,
// a compressed file's frame key).
Result<Key256> derive_key(const Key256& key, std::string_view label, std::span<const std::uint8_t> salt);

// A data key wrapped by a master key: 12-byte GCM IV, 32-byte ciphertext, 16-byte tag; the master
// key id is authenticated as associated data.
struct WrappedKey {
  std::uint32_t master_id = 0;
  std::array<std::uint8_t, 60> bytes{};
};
Result<WrappedKey> wrap_data_key(const MasterKey& master, const Key256& data_key);
// Fails with a message naming the key id when the key is missing or does not authenticate.
Result<Key256> unwrap_data_key(const MasterKeys& keys, const WrappedKey& wrapped);

// AES-256-CTR over `data` in place, as if it sat at byte `offset` of the file: the 128-bit counter
// block is nonce (8 bytes) || big-endian (offset / 16), and offset % 16 keystream bytes are skipped.
// Encrypting and decrypting are the same operation. One-off use; FileCtr keeps the key schedule.
Status ctr_apply(const Key256& data_key, const FileNonce& nonce, std::uint64_t offset,
                 std::span<std::uint8_t> data);

// The run MAC (version 2): AES-256-GMAC under a MAC key derived once per file from the data key
// (HMAC-SHA256(data_key, "brelay run gmac v2")), with a fresh random 16-byte IV per MAC; the
// authenticated data is the big-endian offset followed by the (encrypted) run bytes, so a run moved
// elsewhere fails. The 32 stored bytes are the IV followed by the 16-byte tag. GMAC over GHASH
// (pclmulqdq) costs a fraction of HMAC-SHA256, which was most of what encryption added to ingest.
Result<Mac256> run_mac(const Key256& data_key, std::uint64_t offset,
                       std::span<const std::uint8_t> stored_bytes);
// Whether `mac` (from run_mac) authenticates `stored_bytes` at `offset` (constant-time compare).
Result<bool> run_mac_matches(const Key256& data_key, std::uint64_t offset,
                             std::span<const std::uint8_t> stored_bytes, const Mac256& mac);
// Constant-time comparison for MACs.
bool mac_equal(const Mac256& a, const Mac256& b);

struct CipherCtxFree {
  void operator()(evp_cipher_ctx_st* ctx) const;
};
using CipherCtx = std::unique_ptr<evp_cipher_ctx_st, CipherCtxFree>;

// One file's AES-256-CTR with its key schedule set up once (one EVP context per file): each apply()
// only loads the counter. `segments` (starts strictly increasing) give the nonce from their start
// on; before the first, `nonce` applies. Not thread-safe: one per thread that uses it.
class FileCtr {
 public:
  static Result<FileCtr> create(const Key256& data_key, const FileNonce& nonce,
                                std::span<const NonceSegment> segments = {});
  // `out` = `in` encrypted (= decrypted) as if `in` sat at byte `offset` of the file, each byte
  // under the nonce in force at its position; same sizes, `out` may be `in` (in place), so
  // encrypting while copying costs one pass.
  Status apply(std::uint64_t offset, std::span<const std::uint8_t> in, std::span<std::uint8_t> out);

 private:
  // `in` at `offset`, all under `nonce`.
  Status apply_under(const FileNonce& nonce, std::uint64_t offset, std::span<const std::uint8_t> in,
                     std::span<std::uint8_t> out);

  CipherCtx ctx_;
  FileNonce nonce_{};
  std::vector<NonceSegment> segments_;
};

// One file's run MACs (run_mac) with the MAC key derived once and one reused EVP context.
// Not thread-safe: one per thread that uses it.
class RunMacer {
 public:
  static Result<RunMacer> create(const Key256& data_key);
  // A MAC is begin(offset), update() over the run's bytes in order, then finish().
  Status begin(std::uint64_t offset);
  Status update(std::span<const std::uint8_t> bytes);
  Result<Mac256> finish();
  // run_mac_matches() with this file's key.
  Result<bool> matches(std::uint64_t offset, std::span<const std::uint8_t> stored_bytes, const Mac256& mac);
  // The same for a MAC made as begin(offset), update(bound), update(stored_bytes), finish().
  Result<bool> matches(std::uint64_t offset, std::span<const std::uint8_t> bound,
                       std::span<const std::uint8_t> stored_bytes, const Mac256& mac);

 private:
  Status start(std::uint64_t offset, const std::uint8_t* iv);
  Result<std::array<std::uint8_t, 16>> tag();

  CipherCtx ctx_;
  std::array<std::uint8_t, 16> iv_{};
};

}  // namespace brelay::storage::crypto
