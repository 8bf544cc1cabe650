#include "storage/at_rest_crypto.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <memory>

namespace brelay::storage::crypto {

Key256::~Key256() {
  OPENSSL_cleanse(data(), size());
}

namespace {

constexpr std::size_t kMaxUpdate = std::size_t{1} << 30;  // EVP takes int lengths

std::array<std::uint8_t, 8> big_endian(std::uint64_t value) {
  std::array<std::uint8_t, 8> out{};
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<std::uint8_t>(value >> (56 - 8 * i));
  return out;
}

std::array<std::uint8_t, 16> ctr_block(const FileNonce& nonce, std::uint64_t offset) {
  std::array<std::uint8_t, 16> iv{};
  std::copy(nonce.begin(), nonce.end(), iv.begin());
  const auto block = big_endian(offset / 16);
  std::copy(block.begin(), block.end(), iv.begin() + 8);
  return iv;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

Result<MasterKey> parse_key_line(std::string_view line, std::size_t line_no) {
  const auto space = line.find_first_of(" \t");
  if (space == std::string_view::npos) {
    return make_error("key file line {}: expected '<id> <64 hex characters>'", line_no);
  }
  const std::string_view id_text = line.substr(0, space);
  const std::string_view hex = trim(line.substr(space));
  MasterKey key;
  const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), key.id);
  if (ec != std::errc() || end != id_text.data() + id_text.size() || key.id == 0) {
    return make_error("key file line {}: the key id must be a decimal number from 1 to 4294967295", line_no);
  }
  if (hex.size() != 64) {
    return make_error("key file line {}: key {} must be 64 hex characters (256 bits), found {}", line_no,
                      key.id, hex.size());
  }
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = hex_digit(hex[2 * i]);
    const int lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return make_error("key file line {}: key {} is not hex", line_no, key.id);
    key.key[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return key;
}

}  // namespace

MasterKeys::MasterKeys(std::vector<MasterKey> keys) : keys_(std::move(keys)) {
  std::sort(keys_.begin(), keys_.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
}

const MasterKey* MasterKeys::find(std::uint32_t id) const {
  for (const auto& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

Result<MasterKeys> parse_key_file(std::string_view text) {
  std::vector<MasterKey> keys;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    BRELAY_ASSIGN_OR_RETURN(auto key, parse_key_line(line, line_no));
    for (const auto& k : keys) {
      if (k.id == key.id) return make_error("key file line {}: key id {} appears twice", line_no, key.id);
    }
    keys.push_back(key);
  }
  if (keys.empty()) return make_error("key file holds no key; add a line '<id> <64 hex characters>'");
  return MasterKeys(std::move(keys));
}

Result<MasterKeys> load_key_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return make_error_code(errno, "cannot open encryption key file {}: {}", path, std::strerror(errno));
  }
  struct stat st {};
  std::string text;
  const int stat_rc = ::fstat(fd, &st);
  if (stat_rc == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() && (st.st_mode & 077) == 0) {
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < (1u << 20))
      text.append(buf, n);
    OPENSSL_cleanse(buf, sizeof buf);
  }
  ::close(fd);
  if (stat_rc != 0 || !S_ISREG(st.st_mode)) {
    return make_error("encryption key file {} is not a regular file", path);
  }
  if (st.st_uid != ::geteuid()) {
    return make_error(
        "encryption key file {} is owned by uid {}, not by the service user (uid {}); "
        "run: chown {} {}",
        path, st.st_uid, ::geteuid(), ::geteuid(), path);
  }
  if ((st.st_mode & 077) != 0) {
    return make_error(
        "encryption key file {} is accessible by group or others (mode {:o}); "
        "run: chmod 600 {}",
        path, st.st_mode & 0777, path);
  }
  auto keys = parse_key_file(text);
  OPENSSL_cleanse(text.data(), text.size());
  if (!keys) return std::move(keys).error().with_context(path);
  return keys;
}

Result<Key256> random_key() {
  Key256 k{};
  if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) return make_error("RAND_bytes failed");
  return k;
}

Result<FileNonce> random_nonce() {
  FileNonce n{};
  if (RAND_bytes(n.data(), static_cast<int>(n.size())) != 1) return make_error("RAND_bytes failed");
  return n;
}

Result<WrappedKey> wrap_data_key(const MasterKey& master, const Key256& data_key) {
  WrappedKey w;
  w.master_id = master.id;
  std::uint8_t* iv = w.bytes.data();
  std::uint8_t* ct = iv + 12;
  std::uint8_t* tag = ct + 32;
  if (RAND_bytes(iv, 12) != 1) return make_error("RAND_bytes failed");
  const std::uint8_t aad[4] = {
      static_cast<std::uint8_t>(master.id >> 24), static_cast<std::uint8_t>(master.id >> 16),
      static_cast<std::uint8_t>(master.id >> 8), static_cast<std::uint8_t>(master.id)};
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, master.key.data(), iv) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad, 4) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct, &len, data_key.data(), 32) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag) != 1) {
    return make_error("AES-256-GCM wrap of a data key failed");
  }
  return w;
}

Result<Key256> unwrap_data_key(const MasterKeys& keys, const WrappedKey& wrapped) {
  const MasterKey* master = keys.find(wrapped.master_id);
  if (master == nullptr) {
    return make_error("the store needs master key id {}, which the encryption key file does not hold",
                      wrapped.master_id);
  }
  const std::uint8_t* iv = wrapped.bytes.data();
  const std::uint8_t* ct = iv + 12;
  std::array<std::uint8_t, 16> tag{};
  std::copy(ct + 32, ct + 48, tag.begin());
  const std::uint8_t aad[4] = {
      static_cast<std::uint8_t>(master->id >> 24), static_cast<std::uint8_t>(master->id >> 16),
      static_cast<std::uint8_t>(master->id >> 8), static_cast<std::uint8_t>(master->id)};
  Key256 out{};
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, master->key.data(), iv) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad, 4) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, ct, 32) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
    return make_error(
        "master key id {} in the encryption key file is not the key this store was "
        "encrypted with (the data key does not authenticate); restore the right key "
        "for id {}",
        wrapped.master_id, wrapped.master_id);
  }
  return out;
}

Status ctr_apply(const Key256& data_key, const FileNonce& nonce, std::uint64_t offset,
                 std::span<std::uint8_t> data) {
  if (data.empty()) return ok_status();
  BRELAY_ASSIGN_OR_RETURN(FileCtr ctr, FileCtr::create(data_key, nonce));
  return ctr.apply(offset, data, data);
}

Result<Mac256> run_mac(const Key256& data_key, std::uint64_t offset,
                       std::span<const std::uint8_t> stored_bytes) {
  BRELAY_ASSIGN_OR_RETURN(RunMacer macer, RunMacer::create(data_key));
  BRELAY_TRY(macer.begin(offset));
  BRELAY_TRY(macer.update(stored_bytes));
  return macer.finish();
}

Result<bool> run_mac_matches(const Key256& data_key, std::uint64_t offset,
                             std::span<const std::uint8_t> stored_bytes, const Mac256& mac) {
  BRELAY_ASSIGN_OR_RETURN(RunMacer macer, RunMacer::create(data_key));
  return macer.matches(offset, stored_bytes, mac);
}

void CipherCtxFree::operator()(EVP_CIPHER_CTX* ctx) const {
  EVP_CIPHER_CTX_free(ctx);
}

Result<FileCtr> FileCtr::create(const Key256& data_key, const FileNonce& nonce,
                                std::span<const NonceSegment> segments) {
  FileCtr ctr;
  ctr.ctx_.reset(EVP_CIPHER_CTX_new());
  ctr.nonce_ = nonce;
  ctr.segments_.assign(segments.begin(), segments.end());
  const auto iv = ctr_block(nonce, 0);
  if (!ctr.ctx_ ||
      EVP_EncryptInit_ex(ctr.ctx_.get(), EVP_aes_256_ctr(), nullptr, data_key.data(), iv.data()) != 1) {
    return make_error("AES-256-CTR init failed");
  }
  return ctr;
}

Status FileCtr::apply(std::uint64_t offset, std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  if (in.size() != out.size()) return make_error("AES-256-CTR: input and output sizes differ");
  std::size_t done = 0;
  while (done < in.size()) {
    const std::uint64_t at = offset + done;
    const FileNonce* nonce = &nonce_;
    std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
    for (const NonceSegment& segment : segments_) {
      if (segment.start > at) {
        limit = segment.start;
        break;
      }
      nonce = &segment.nonce;
    }
    const auto size = static_cast<std::size_t>(std::min<std::uint64_t>(in.size() - done, limit - at));
    BRELAY_TRY(apply_under(*nonce, at, in.subspan(done, size), out.subspan(done, size)));
    done += size;
  }
  return ok_status();
}

Status FileCtr::apply_under(const FileNonce& nonce, std::uint64_t offset, std::span<const std::uint8_t> in,
                            std::span<std::uint8_t> out) {
  const auto iv = ctr_block(nonce, offset);
  // A new IV with the key kept: no key schedule, no fetch.
  if (EVP_EncryptInit_ex(ctx_.get(), nullptr, nullptr, nullptr, iv.data()) != 1) {
    return make_error("AES-256-CTR init failed");
  }
  int len = 0;
  std::array<std::uint8_t, 16> skip{};
  const int skip_len = static_cast<int>(offset % 16);
  if (skip_len > 0 && EVP_EncryptUpdate(ctx_.get(), skip.data(), &len, skip.data(), skip_len) != 1) {
    return make_error("AES-256-CTR failed");
  }
  for (std::size_t done = 0; done < in.size();) {
    const int chunk = static_cast<int>(std::min(in.size() - done, kMaxUpdate));
    if (EVP_EncryptUpdate(ctx_.get(), out.data() + done, &len, in.data() + done, chunk) != 1) {
      return make_error("AES-256-CTR failed");
    }
    done += static_cast<std::size_t>(chunk);
  }
  return ok_status();
}

Result<Key256> derive_key(const Key256& key, std::string_view label, std::span<const std::uint8_t> salt) {
  std::vector<std::uint8_t> input(label.begin(), label.end());
  input.insert(input.end(), salt.begin(), salt.end());
  Key256 derived{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), input.data(), input.size(), derived.data(),
           &len) == nullptr) {
    return make_error("HMAC-SHA256 key derivation failed");
  }
  return derived;
}

Result<RunMacer> RunMacer::create(const Key256& data_key) {
  BRELAY_ASSIGN_OR_RETURN(Key256 mac_key, derive_key(data_key, "brelay run gmac v2", {}));
  RunMacer macer;
  macer.ctx_.reset(EVP_CIPHER_CTX_new());
  const bool ok = macer.ctx_ &&
                  EVP_EncryptInit_ex(macer.ctx_.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
                  EVP_CIPHER_CTX_ctrl(macer.ctx_.get(), EVP_CTRL_GCM_SET_IVLEN, 16, nullptr) == 1 &&
                  EVP_EncryptInit_ex(macer.ctx_.get(), nullptr, nullptr, mac_key.data(), nullptr) == 1;
  if (!ok) return make_error("AES-256-GMAC init failed");
  return macer;
}

Status RunMacer::start(std::uint64_t offset, const std::uint8_t* iv) {
  std::copy_n(iv, iv_.size(), iv_.begin());
  if (EVP_EncryptInit_ex(ctx_.get(), nullptr, nullptr, nullptr, iv_.data()) != 1) {
    return make_error("AES-256-GMAC init failed");
  }
  return update(big_endian(offset));
}

Status RunMacer::begin(std::uint64_t offset) {
  std::array<std::uint8_t, 16> iv{};
  if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1) return make_error("RAND_bytes failed");
  return start(offset, iv.data());
}

Status RunMacer::update(std::span<const std::uint8_t> bytes) {
  int len = 0;
  for (std::size_t done = 0; done < bytes.size();) {
    const int chunk = static_cast<int>(std::min(bytes.size() - done, kMaxUpdate));
    // Additional authenticated data only: GHASH, no encryption.
    if (EVP_EncryptUpdate(ctx_.get(), nullptr, &len, bytes.data() + done, chunk) != 1) {
      return make_error("AES-256-GMAC failed");
    }
    done += static_cast<std::size_t>(chunk);
  }
  return ok_status();
}

Result<std::array<std::uint8_t, 16>> RunMacer::tag() {
  std::array<std::uint8_t, 16> tag{};
  std::array<std::uint8_t, 16> none{};
  int len = 0;
  if (EVP_EncryptFinal_ex(ctx_.get(), none.data(), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_GCM_GET_TAG, 16, tag.data()) != 1) {
    return make_error("AES-256-GMAC failed");
  }
  return tag;
}

Result<Mac256> RunMacer::finish() {
  BRELAY_ASSIGN_OR_RETURN(const auto tag_bytes, tag());
  Mac256 mac{};
  std::copy(iv_.begin(), iv_.end(), mac.begin());
  std::copy(tag_bytes.begin(), tag_bytes.end(), mac.begin() + 16);
  return mac;
}

Result<bool> RunMacer::matches(std::uint64_t offset, std::span<const std::uint8_t> stored_bytes,
                               const Mac256& mac) {
  return matches(offset, {}, stored_bytes, mac);
}

Result<bool> RunMacer::matches(std::uint64_t offset, std::span<const std::uint8_t> bound,
                               std::span<const std::uint8_t> stored_bytes, const Mac256& mac) {
  BRELAY_TRY(start(offset, mac.data()));
  if (!bound.empty()) BRELAY_TRY(update(bound));
  BRELAY_TRY(update(stored_bytes));
  BRELAY_ASSIGN_OR_RETURN(const auto tag_bytes, tag());
  return CRYPTO_memcmp(tag_bytes.data(), mac.data() + 16, tag_bytes.size()) == 0;
}

bool mac_equal(const Mac256& a, const Mac256& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace brelay::storage::crypto
