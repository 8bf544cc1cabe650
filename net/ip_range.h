// Address ranges for account host restrictions ([[users]] hosts): "10.0.0.0/8", "2001:db8::/32",
// or one address ("127.0.0.1", "::1"). Every address is kept as 16 bytes, IPv4 as its IPv4-mapped
// IPv6 form (::ffff:a.b.c.d), so an IPv4 range matches a client that a dual-stack listener reports
// as ::ffff:a.b.c.d, and the reverse. Pure values; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace brelay::net {

using IpBytes = std::array<std::uint8_t, 16>;

// An IPv4 or IPv6 literal as 16 bytes (IPv4 mapped); std::nullopt for anything else.
std::optional<IpBytes> parse_ip(std::string_view text);

// The address as the server reports clients: IPv4 (also IPv4-mapped IPv6) as "a.b.c.d", else the
// IPv6 text. Anything that is not an IP literal comes back unchanged.
std::string canonical_ip(std::string_view text);

class IpRange {
 public:
  // "address/prefix" or a lone address (all bits). An IPv4 prefix counts IPv4 bits (0-32).
  static Result<IpRange> parse(std::string_view text);
  static IpRange single(const IpBytes& address);

  bool contains(const IpBytes& address) const;
  // False for text that is not an IP literal.
  bool contains(std::string_view address) const;
  std::string to_string() const;

 private:
  IpBytes network_{};
  unsigned prefix_bits_ = 128;  // of the 16-byte form
};

}  // namespace brelay::net
