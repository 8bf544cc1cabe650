#include "net/ip_range.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace brelay::net {
namespace {

constexpr unsigned kMappedPrefixBits = 96;

bool is_mapped_v4(const IpBytes& address) {
  for (int i = 0; i < 10; ++i)
    if (address[i] != 0) return false;
  return address[10] == 0xff && address[11] == 0xff;
}

}  // namespace

std::optional<IpBytes> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string copy(text);
  IpBytes bytes{};
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    std::memcpy(bytes.data() + 12, &v4, 4);
    return bytes;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
    std::memcpy(bytes.data(), &v6, 16);
    return bytes;
  }
  return std::nullopt;
}

std::string canonical_ip(std::string_view text) {
  auto bytes = parse_ip(text);
  if (!bytes) return std::string(text);
  char out[INET6_ADDRSTRLEN] = {};
  if (is_mapped_v4(*bytes)) {
    inet_ntop(AF_INET, bytes->data() + 12, out, sizeof(out));
  } else {
    inet_ntop(AF_INET6, bytes->data(), out, sizeof(out));
  }
  return out;
}

Result<IpRange> IpRange::parse(std::string_view text) {
  const auto slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  auto address = parse_ip(address_text);
  if (!address) return make_error("'{}' is not an IPv4 or IPv6 address", address_text);
  const bool v4 = address_text.find(':') == std::string_view::npos;
  const unsigned max_bits = v4 ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view prefix = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
    if (prefix.empty() || ec != std::errc() || end != prefix.data() + prefix.size() || bits > max_bits)
      return make_error("'{}': the prefix length after '/' must be a number from 0 to {}", text, max_bits);
  }
  IpRange range;
  range.prefix_bits_ = v4 ? kMappedPrefixBits + bits : bits;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned first_bit = i * 8;
    std::uint8_t mask = 0xff;
    if (first_bit >= range.prefix_bits_) {
      mask = 0;
    } else if (range.prefix_bits_ - first_bit < 8) {
      mask = static_cast<std::uint8_t>(0xff << (8 - (range.prefix_bits_ - first_bit)));
    }
    range.network_[i] = static_cast<std::uint8_t>((*address)[i] & mask);
  }
  return range;
}

IpRange IpRange::single(const IpBytes& address) {
  IpRange range;
  range.network_ = address;
  range.prefix_bits_ = 128;
  return range;
}

bool IpRange::contains(const IpBytes& address) const {
  unsigned bits = prefix_bits_;
  for (unsigned i = 0; i < 16 && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
    if ((address[i] & mask) != network_[i]) return false;
    bits -= take;
  }
  return true;
}

bool IpRange::contains(std::string_view address) const {
  auto bytes = parse_ip(address);
  return bytes && contains(*bytes);
}

std::string IpRange::to_string() const {
  char out[INET6_ADDRSTRLEN] = {};
  if (is_mapped_v4(network_) && prefix_bits_ >= kMappedPrefixBits) {
    inet_ntop(AF_INET, network_.data() + 12, out, sizeof(out));
    return fmt::format("{}/{}", out, prefix_bits_ - kMappedPrefixBits);
  }
  inet_ntop(AF_INET6, network_.data(), out, sizeof(out));
  return fmt::format("{}/{}", out, prefix_bits_);
}

}  // namespace brelay::net
