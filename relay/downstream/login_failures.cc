#include "relay/downstream/login_failures.h"

#include <spdlog/spdlog.h>

namespace brelay::relay::downstream {
namespace {

constexpr const char* kAuthFailures = "binlog_relay_auth_failures_total";
constexpr const char* kAuthFailuresHelp =
    "Failed logins on the MySQL port, by reason (blocked: refused with ERR 1129 before any password)";
constexpr const char* kRefused = "binlog_relay_connections_refused_total";
constexpr const char* kRefusedHelp =
    "Connections refused by a connection limit ([server] max_connections, [[users]] max_connections, "
    "[server] max_unauthenticated_connections)";

constexpr net::LoginRefusal kAllReasons[] = {
    net::LoginRefusal::kBadPassword,
    net::LoginRefusal::kUnknownAccount,
    net::LoginRefusal::kHostNotAllowed,
    net::LoginRefusal::kTlsRequired,
    net::LoginRefusal::kBlocked,
    net::LoginRefusal::kMalformed,
    net::LoginRefusal::kTimeout,
    net::LoginRefusal::kAccountThrottled,
    net::LoginRefusal::kMaxConnections,
    net::LoginRefusal::kMaxUserConnections,
    net::LoginRefusal::kUnauthenticatedLimit,
};

Counter& counter_for(MetricsRegistry& metrics, net::LoginRefusal reason) {
  const Labels labels = {{"reason", std::string(net::login_refusal_name(reason))}};
  if (net::is_auth_failure(reason)) return metrics.counter(kAuthFailures, kAuthFailuresHelp, labels);
  return metrics.counter(kRefused, kRefusedHelp, labels);
}

}  // namespace

bool LogRateLimiter::allow(Clock::time_point now) {
  if (in_window_ == 0 || now - window_start_ >= window_) {
    window_start_ = now;
    in_window_ = 0;
    suppressed_in_window_ = 0;
  }
  if (in_window_ >= burst_) {
    ++suppressed_;
    ++suppressed_in_window_;
    return false;
  }
  ++in_window_;
  return true;
}

std::uint64_t LogRateLimiter::take_suppressed() {
  const std::uint64_t suppressed = suppressed_;
  suppressed_ = 0;
  return suppressed;
}

std::string printable_cut(std::string_view text, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (text.size() > limit) out += fmt::format("...({} bytes)", text.size());
  return out;
}

LoginFailureReporter::LoginFailureReporter(MetricsRegistry& metrics) : metrics_(metrics) {
  for (net::LoginRefusal reason : kAllReasons)
    (void)counter_for(metrics_, reason);  // every series from the start, at 0
}

void LoginFailureReporter::on_refused(const net::LoginRefusalEvent& event) {
  counter_for(metrics_, event.reason).add();
  if (event.reason == net::LoginRefusal::kUnauthenticatedLimit) {
    // A burst of silent connections would fill the budget of lines: counted, logged at debug only.
    spdlog::debug("a handshake from {} was ended to make room for a new connection", event.address);
    return;
  }
  if (!log_limit_.allow(LogRateLimiter::Clock::now())) {
    if (log_limit_.suppressed_in_window() == 1) {
      spdlog::warn(
          "more than {} failed or refused logins within {} s: the next ones are counted "
          "(binlog_relay_auth_failures_total) but not logged until the window ends",
          kLogBurst, kLogWindow.count());
    }
    return;
  }
  if (const std::uint64_t left_out = log_limit_.take_suppressed(); left_out > 0) {
    spdlog::warn("{} more failed or refused logins were not logged (at most {} lines per {} s)", left_out,
                 kLogBurst, kLogWindow.count());
  }
  const std::string user = event.user.empty() ? "(none)" : "'" + printable_cut(event.user) + "'";
  const std::string_view reason = net::login_refusal_name(event.reason);
  if (!net::is_auth_failure(event.reason)) {
    spdlog::warn("login refused: account {} from {}: {}", user, event.address, reason);
    return;
  }
  if (event.reason == net::LoginRefusal::kBlocked) {
    spdlog::warn(
        "failed login: account {} from {}: blocked (the address has {} failed logins in a row; "
        "FLUSH HOSTS by an admin unblocks it)",
        user, event.address, event.address_errors);
    return;
  }
  spdlog::warn("failed login: account {} from {}: {} ({} in a row from this address{})", user, event.address,
               reason, event.address_errors,
               event.address_blocked ? ", now blocked until FLUSH HOSTS ([server] max_connect_errors)" : "");
}

}  // namespace brelay::relay::downstream
