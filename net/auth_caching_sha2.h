// caching_sha2_password: the server stores SHA256(SHA256(password)) and can always check the fast
// path, where the client answers a 20-byte nonce with
// SHA256(password) XOR SHA256(SHA256(SHA256(password)) || nonce). Full authentication sends the
// password itself: in clear over TLS, or without TLS encrypted with the server's RSA public key
// (RSA-OAEP of (password + NUL) XOR the repeated nonce).
// Hash functions are pure (any thread); RsaKeyPair is immutable after creation and may be shared
// between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "net/digests.h"

using EVP_PKEY = struct evp_pkey_st;  // as <openssl/types.h> declares it

namespace brelay::net {

using CachingSha2PasswordHash = Sha256Digest;

// Bytes of the AuthMoreData exchange after the first response.
namespace caching_sha2 {
inline constexpr std::uint8_t kRequestPublicKey = 0x02;
inline constexpr std::uint8_t kFastAuthSuccess = 0x03;
inline constexpr std::uint8_t kPerformFullAuthentication = 0x04;
}  // namespace caching_sha2

// SHA256(SHA256(password)), the stored form.
CachingSha2PasswordHash caching_sha2_password_hash(std::string_view password);
// 64 lower-case hex digits, and back (either case).
std::string format_caching_sha2_password_hash(const CachingSha2PasswordHash& hash);
Result<CachingSha2PasswordHash> parse_caching_sha2_password_hash(std::string_view text);

// The client's fast-path response for `nonce` (empty for an empty password).
Bytes caching_sha2_scramble(std::string_view password, ByteView nonce);
// True when `response` proves knowledge of the password behind `stored` (constant time).
bool verify_caching_sha2_scramble(ByteView response, ByteView nonce, const CachingSha2PasswordHash& stored);
bool verify_caching_sha2_password(std::string_view password, const CachingSha2PasswordHash& stored);

// The server's RSA key pair for the public-key exchange.
class RsaKeyPair {
 public:
  // A new 2048-bit key (takes some tens of milliseconds).
  static Result<std::shared_ptr<const RsaKeyPair>> generate(int bits = 2048);

  ~RsaKeyPair();
  RsaKeyPair(const RsaKeyPair&) = delete;
  RsaKeyPair& operator=(const RsaKeyPair&) = delete;

  // "-----BEGIN PUBLIC KEY-----..." (SubjectPublicKeyInfo), as sent to clients.
  const std::string& public_key_pem() const { return public_key_pem_; }
  // The ciphertext size: a client's encrypted password must have exactly this many bytes.
  std::size_t cipher_size() const;
  // Decrypts a client's encrypted password and undoes the nonce XOR; returns the password without
  // its NUL terminator.
  Result<std::string> decrypt_password(ByteView cipher, ByteView nonce) const;

 private:
  explicit RsaKeyPair(EVP_PKEY* key);
  static Result<std::shared_ptr<const RsaKeyPair>> adopt(EVP_PKEY* owned_key);
  EVP_PKEY* key_;  // owned
  std::string public_key_pem_;
};

// Client side of the RSA exchange: encrypts (password + NUL) XOR nonce with the server's PEM key.
Result<Bytes> caching_sha2_encrypt_password(std::string_view public_key_pem, std::string_view password,
                                            ByteView nonce);

}  // namespace brelay::net
