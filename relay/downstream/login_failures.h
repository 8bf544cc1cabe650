// LoginFailureReporter: what the relay makes of the logins net/'s server fails or refuses
// (net/login_refusal.h): counted in binlog_relay_auth_failures_total{reason} (bad_password,
// unknown_account, host_not_allowed, tls_required, blocked, malformed, timeout, account_throttled) and
// binlog_relay_connections_refused_total{reason} (max_connections, max_user_connections,
// unauthenticated_limit), and logged with account, address and reason, at most `burst` lines per
// window so that a flood cannot fill the disk (the number left out is logged with the next line).
// Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "net/login_refusal.h"
#include "relay/core/metrics.h"

namespace brelay::relay::downstream {

// At most `burst` events per `window`; counts the rest.
class LogRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  LogRateLimiter(std::size_t burst, std::chrono::milliseconds window) : burst_(burst), window_(window) {}

  // True when a line may be written at `now`.
  bool allow(Clock::time_point now);
  // Lines refused since the last call; call it after allow() said true to report them.
  std::uint64_t take_suppressed();
  // Lines refused in the current window (1: the limit was just reached).
  std::size_t suppressed_in_window() const { return suppressed_in_window_; }

 private:
  std::size_t burst_;
  std::chrono::milliseconds window_;
  Clock::time_point window_start_{};
  std::size_t in_window_ = 0;
  std::uint64_t suppressed_ = 0;
  std::size_t suppressed_in_window_ = 0;
};

class LoginFailureReporter {
 public:
  static constexpr std::size_t kLogBurst = 20;
  static constexpr std::chrono::seconds kLogWindow{60};

  explicit LoginFailureReporter(MetricsRegistry& metrics);

  void on_refused(const net::LoginRefusalEvent& event);

 private:
  MetricsRegistry& metrics_;
  LogRateLimiter log_limit_{kLogBurst, kLogWindow};
};

// `text` cut to `limit` characters with control and non-ASCII bytes escaped, for log lines about
// what a client sent.
std::string printable_cut(std::string_view text, std::size_t limit = 64);

}  // namespace brelay::relay::downstream
