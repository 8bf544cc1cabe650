#include "net/digests.h"

#include <cstdlib>
#include <memory>

#include <openssl/evp.h>

namespace brelay::net {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> digest(const EVP_MD* type, std::initializer_list<ByteView> parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::array<std::uint8_t, N> out{};
  unsigned int length = 0;
  // These only fail when OpenSSL cannot allocate; nothing sensible can continue then.
  if (!context || EVP_DigestInit_ex(context.get(), type, nullptr) != 1) std::abort();
  for (ByteView part : parts)
    if (!part.empty() && EVP_DigestUpdate(context.get(), part.data(), part.size()) != 1) std::abort();
  if (EVP_DigestFinal_ex(context.get(), out.data(), &length) != 1 || length != N) std::abort();
  return out;
}

}  // namespace

Sha1Digest sha1(std::initializer_list<ByteView> parts) {
  return digest<20>(EVP_sha1(), parts);
}

Sha256Digest sha256(std::initializer_list<ByteView> parts) {
  return digest<32>(EVP_sha256(), parts);
}

}  // namespace brelay::net
