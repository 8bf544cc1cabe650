#include "net/auth_caching_sha2.h"

#include <algorithm>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/hex.h"
#include "net/openssl_error.h"

namespace brelay::net {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

void xor_with_nonce(Bytes& data, ByteView nonce) {
  if (nonce.empty()) return;
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] ^= nonce[i % nonce.size()];
}

Status set_oaep_padding(EVP_PKEY_CTX* context) {
  if (EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING) <= 0)
    return openssl_error("setting RSA-OAEP padding");
  return {};
}

}  // namespace

CachingSha2PasswordHash caching_sha2_password_hash(std::string_view password) {
  return sha256({sha256({as_bytes(password)})});
}

std::string format_caching_sha2_password_hash(const CachingSha2PasswordHash& hash) {
  return to_hex(hash);
}

Result<CachingSha2PasswordHash> parse_caching_sha2_password_hash(std::string_view text) {
  CachingSha2PasswordHash hash;
  if (text.size() != hash.size() * 2)
    return make_error(
        "a caching_sha2_password hash is 64 hex digits (SHA256(SHA256(password))), got {} characters",
        text.size());
  if (!from_hex(text, hash)) return make_error("a caching_sha2_password hash has a non-hex character");
  return hash;
}

Bytes caching_sha2_scramble(std::string_view password, ByteView nonce) {
  if (password.empty()) return {};
  const Sha256Digest stage1 = sha256({as_bytes(password)});
  const Sha256Digest stage2 = sha256({stage1});
  const Sha256Digest mask = sha256({stage2, nonce});
  Bytes response(stage1.size());
  for (std::size_t i = 0; i < stage1.size(); ++i)
    response[i] = stage1[i] ^ mask[i];
  return response;
}

bool verify_caching_sha2_scramble(ByteView response, ByteView nonce, const CachingSha2PasswordHash& stored) {
  if (response.size() != stored.size()) return false;
  const Sha256Digest mask = sha256({stored, nonce});
  Sha256Digest candidate_stage1;
  for (std::size_t i = 0; i < candidate_stage1.size(); ++i)
    candidate_stage1[i] = response[i] ^ mask[i];
  const Sha256Digest candidate_stage2 = sha256({candidate_stage1});
  return CRYPTO_memcmp(candidate_stage2.data(), stored.data(), stored.size()) == 0;
}

bool verify_caching_sha2_password(std::string_view password, const CachingSha2PasswordHash& stored) {
  const CachingSha2PasswordHash candidate = caching_sha2_password_hash(password);
  return CRYPTO_memcmp(candidate.data(), stored.data(), stored.size()) == 0;
}

RsaKeyPair::RsaKeyPair(EVP_PKEY* key) : key_(key) {}

RsaKeyPair::~RsaKeyPair() {
  EVP_PKEY_free(key_);
}

Result<std::shared_ptr<const RsaKeyPair>> RsaKeyPair::adopt(EVP_PKEY* owned_key) {
  PkeyPtr key(owned_key);
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) return make_error("the key is not an RSA key");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1)
    return openssl_error("writing the RSA public key as PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<std::size_t>(size));
  auto pair = std::shared_ptr<RsaKeyPair>(new RsaKeyPair(key.release()));
  pair->public_key_pem_ = std::move(pem);
  return std::shared_ptr<const RsaKeyPair>(std::move(pair));
}

Result<std::shared_ptr<const RsaKeyPair>> RsaKeyPair::generate(int bits) {
  ERR_clear_error();
  PkeyPtr key(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  if (!key) return openssl_error("generating an RSA key pair");
  return adopt(key.release());
}

std::size_t RsaKeyPair::cipher_size() const {
  return static_cast<std::size_t>(EVP_PKEY_get_size(key_));
}

Result<std::string> RsaKeyPair::decrypt_password(ByteView cipher, ByteView nonce) const {
  if (cipher.size() != cipher_size())
    return make_error("encrypted password of {} bytes, the RSA key needs {}", cipher.size(), cipher_size());
  ERR_clear_error();
  PkeyCtxPtr context(EVP_PKEY_CTX_new(key_, nullptr));
  if (!context || EVP_PKEY_decrypt_init(context.get()) <= 0) return openssl_error("starting RSA decryption");
  BRELAY_TRY(set_oaep_padding(context.get()));
  std::size_t size = 0;
  if (EVP_PKEY_decrypt(context.get(), nullptr, &size, cipher.data(), cipher.size()) <= 0)
    return openssl_error("sizing the RSA decryption");
  Bytes plain(size);
  if (EVP_PKEY_decrypt(context.get(), plain.data(), &size, cipher.data(), cipher.size()) <= 0)
    return openssl_error("decrypting the password (RSA-OAEP)");
  plain.resize(size);
  xor_with_nonce(plain, nonce);
  const auto nul = std::find(plain.begin(), plain.end(), std::uint8_t{0});
  return std::string(plain.begin(), nul);
}

Result<Bytes> caching_sha2_encrypt_password(std::string_view public_key_pem, std::string_view password,
                                            ByteView nonce) {
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
  if (!bio) return openssl_error("reading the server's RSA public key");
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return openssl_error("reading the server's RSA public key (PEM)");
  Bytes plain(password.begin(), password.end());
  plain.push_back(0);
  xor_with_nonce(plain, nonce);
  PkeyCtxPtr context(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!context || EVP_PKEY_encrypt_init(context.get()) <= 0) return openssl_error("starting RSA encryption");
  BRELAY_TRY(set_oaep_padding(context.get()));
  std::size_t size = 0;
  if (EVP_PKEY_encrypt(context.get(), nullptr, &size, plain.data(), plain.size()) <= 0)
    return openssl_error("sizing the RSA encryption");
  Bytes cipher(size);
  if (EVP_PKEY_encrypt(context.get(), cipher.data(), &size, plain.data(), plain.size()) <= 0)
    return openssl_error(
        "encrypting the password with the server's RSA key (is the password too long for the key?)");
  cipher.resize(size);
  return cipher;
}

}  // namespace brelay::net
