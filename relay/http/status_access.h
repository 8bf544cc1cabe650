// Who may read GET /status: it names the source, the replicas' addresses and accounts, the store's
// paths, which /metrics and /health do not, so it is limited to operators when the endpoint can be
// reached from other hosts.
//   - [metrics] status_token set: every request needs "Authorization: Bearer <token>" (compared in
//     constant time); without it or with another token, 401 and WWW-Authenticate: Bearer.
//   - no token, [metrics] listen on a loopback address (127.0.0.0/8, ::1, localhost): open, as
//     only this host can connect.
//   - no token, any other listen address (0.0.0.0, a LAN address): 403 with how to enable it.
// /metrics and /health stay open either way: Prometheus and orchestrators' probes need them.
// Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace brelay::relay {

struct StatusAccessPolicy {
  std::string token;            // "" = none configured
  bool loopback_listen = true;  // [metrics] listen is a loopback address
};

struct StatusAccessDecision {
  int status = 200;    // 200 allowed, 401 token missing or wrong, 403 disabled
  std::string reason;  // for the response body when refused
};

// `authorization`: the request's Authorization field, if any.
StatusAccessDecision decide_status_access(const StatusAccessPolicy& policy,
                                          std::optional<std::string_view> authorization);

// True for 127.0.0.0/8, ::1, ::ffff:127.x.y.z and "localhost".
bool is_loopback_host(std::string_view host);

// Equality of two secrets in time that depends on neither's contents (both are hashed first, so
// the lengths do not show either).
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace brelay::relay
