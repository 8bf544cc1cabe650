#include "relay/http/status_access.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include <openssl/crypto.h>

#include "net/digests.h"

namespace brelay::relay {

bool is_loopback_host(std::string_view host) {
  std::string text(host);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  static constexpr std::array<std::uint8_t, 16> kLoopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(v6.s6_addr, kLoopback.data(), 16) == 0) return true;
  static constexpr std::array<std::uint8_t, 12> kMappedV4 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(v6.s6_addr, kMappedV4.data(), 12) == 0 && v6.s6_addr[12] == 127;
}

bool secrets_equal(std::string_view a, std::string_view b) {
  const net::Sha256Digest da = net::sha256({as_bytes(a)});
  const net::Sha256Digest db = net::sha256({as_bytes(b)});
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

StatusAccessDecision decide_status_access(const StatusAccessPolicy& policy,
                                          std::optional<std::string_view> authorization) {
  if (policy.token.empty()) {
    if (policy.loopback_listen) return {};
    return {403,
            "GET /status is disabled while [metrics] listen is not a loopback address: set [metrics] "
            "status_token (or status_token_file) and send \"Authorization: Bearer <token>\", or listen "
            "on 127.0.0.1 (/metrics and /health stay open)"};
  }
  constexpr std::string_view kScheme = "bearer ";
  std::string_view given = authorization.value_or("");
  const bool bearer = given.size() >= kScheme.size() &&
                      std::equal(kScheme.begin(), kScheme.end(), given.begin(), [](char x, char y) {
                        return x == std::tolower(static_cast<unsigned char>(y));
                      });
  if (!bearer) {
    return {401, "GET /status needs \"Authorization: Bearer <token>\" with [metrics] status_token"};
  }
  given.remove_prefix(kScheme.size());
  while (!given.empty() && given.front() == ' ')
    given.remove_prefix(1);
  if (!secrets_equal(given, policy.token)) return {401, "the bearer token is not [metrics] status_token"};
  return {};
}

}  // namespace brelay::relay
