// Addresses as the configuration writes them ("host:port", "[::1]:3306") and as libuv wants them
// (sockaddr_storage). Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <sys/socket.h>

#include "common/result.h"

namespace brelay::net {

struct HostPort {
  std::string host;  // a name or an IP literal, without brackets
  std::uint16_t port = 0;

  // "host:port", or "[host]:port" when the host is an IPv6 literal: what parse_host_port reads.
  std::string to_string() const;
};

// "host:port", "[v6-address]:port"; a bare IPv6 literal needs the brackets when a port follows.
// Accepts port 0 (a listener's "any free port").
Result<HostPort> parse_host_port(std::string_view text);

// True when `host` is an IPv4 or IPv6 literal.
bool is_ip_literal(std::string_view host);

// An IP literal and a port as a socket address (no name resolution).
Result<sockaddr_storage> numeric_address(std::string_view host, std::uint16_t port);

// "127.0.0.1:3306" / "[::1]:3306", and the host part alone ("127.0.0.1", "::1").
std::string format_address(const sockaddr* address);
std::string format_host(const sockaddr* address);
std::uint16_t address_port(const sockaddr* address);

}  // namespace brelay::net
