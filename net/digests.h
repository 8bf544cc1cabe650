// SHA-1 and SHA-256 over a sequence of byte ranges (OpenSSL EVP), for the auth plugins.
// Pure functions, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>

#include "common/bytes.h"

namespace brelay::net {

using Sha1Digest = std::array<std::uint8_t, 20>;
using Sha256Digest = std::array<std::uint8_t, 32>;

Sha1Digest sha1(std::initializer_list<ByteView> parts);
Sha256Digest sha256(std::initializer_list<ByteView> parts);

}  // namespace brelay::net
