// mysql_native_password: the server stores SHA1(SHA1(password)); the client answers a 20-byte
// nonce with SHA1(password) XOR SHA1(nonce || SHA1(SHA1(password))). Pure functions, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "net/digests.h"

namespace brelay::net {

using NativePasswordHash = Sha1Digest;

// SHA1(SHA1(password)), the stored form.
NativePasswordHash native_password_hash(std::string_view password);
// The form MySQL shows in mysql.user and accepts in IDENTIFIED BY PASSWORD: '*' + 40 upper-case hex digits.
std::string format_native_password_hash(const NativePasswordHash& hash);
// Parses that form (the '*' is optional, hex in either case).
Result<NativePasswordHash> parse_native_password_hash(std::string_view text);

// The client's auth response for `nonce` (empty for an empty password).
Bytes native_password_scramble(std::string_view password, ByteView nonce);
// True when `response` proves knowledge of the password behind `stored` (constant time).
bool verify_native_password_scramble(ByteView response, ByteView nonce, const NativePasswordHash& stored);
// True when the cleartext `password` hashes to `stored` (constant time).
bool verify_native_password(std::string_view password, const NativePasswordHash& stored);

}  // namespace brelay::net
