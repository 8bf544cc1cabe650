#include "net/auth_native.h"

#include <openssl/crypto.h>

#include "common/hex.h"
#include "net/digests.h"

namespace brelay::net {
namespace {

using Sha1 = Sha1Digest;

}  // namespace

NativePasswordHash native_password_hash(std::string_view password) {
  return sha1({sha1({as_bytes(password)})});
}

std::string format_native_password_hash(const NativePasswordHash& hash) {
  std::string text = "*";
  append_hex(text, hash, HexCase::kUpper);
  return text;
}

Result<NativePasswordHash> parse_native_password_hash(std::string_view text) {
  if (!text.empty() && text[0] == '*') text.remove_prefix(1);
  NativePasswordHash hash;
  if (text.size() != hash.size() * 2)
    return make_error("a mysql_native_password hash is '*' and 40 hex digits, got {} characters",
                      text.size());
  if (!from_hex(text, hash)) return make_error("a mysql_native_password hash has a non-hex character");
  return hash;
}

Bytes native_password_scramble(std::string_view password, ByteView nonce) {
  if (password.empty()) return {};
  const Sha1 stage1 = sha1({as_bytes(password)});
  const Sha1 stage2 = sha1({stage1});
  const Sha1 mask = sha1({nonce, stage2});
  Bytes response(stage1.size());
  for (std::size_t i = 0; i < stage1.size(); ++i)
    response[i] = stage1[i] ^ mask[i];
  return response;
}

bool verify_native_password_scramble(ByteView response, ByteView nonce, const NativePasswordHash& stored) {
  if (response.size() != stored.size()) return false;
  const Sha1 mask = sha1({nonce, stored});
  Sha1 candidate_stage1;
  for (std::size_t i = 0; i < candidate_stage1.size(); ++i)
    candidate_stage1[i] = response[i] ^ mask[i];
  const Sha1 candidate_stage2 = sha1({candidate_stage1});
  return CRYPTO_memcmp(candidate_stage2.data(), stored.data(), stored.size()) == 0;
}

bool verify_native_password(std::string_view password, const NativePasswordHash& stored) {
  const NativePasswordHash candidate = native_password_hash(password);
  return CRYPTO_memcmp(candidate.data(), stored.data(), stored.size()) == 0;
}

}  // namespace brelay::net
