// Why a login failed or was refused, as net/'s server reports it (ServerSettings::
// on_login_refused) for logs and metrics. Pure; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace brelay::net {

// Why a login failed (the first eight: authentication failures, counted per address except
// kBlocked) or was refused by a connection limit.
enum class LoginRefusal {
  kBadPassword,           // a known account, a wrong password
  kUnknownAccount,        // no such account
  kHostNotAllowed,        // the account may not log in from this address (answered as unknown)
  kTlsRequired,           // without TLS where the server or the account requires it
  kBlocked,               // the address has too many failures (ERR 1129)
  kMalformed,             // packets that are not a login (bad handshake, out of order, too large)
  kTimeout,               // no login within the handshake timeout
  kAccountThrottled,      // the account's failure budget is spent (answered as unknown)
  kMaxConnections,        // ERR 1040 after the password was checked
  kMaxUserConnections,    // ERR 1226
  kUnauthenticatedLimit,  // a handshake ended to make room for a new connection
};
// "bad_password", "unknown_account", ... (metric label values).
std::string_view login_refusal_name(LoginRefusal reason);
bool is_auth_failure(LoginRefusal reason);

struct LoginRefusalEvent {
  LoginRefusal reason = LoginRefusal::kMalformed;
  std::string_view user;             // empty when the client named none yet
  std::string_view address;          // the client's IP
  std::uint64_t address_errors = 0;  // the address's failures in a row, this one included
  bool address_blocked = false;      // the address is blocked now
};
using LoginRefusalObserver = std::function<void(const LoginRefusalEvent&)>;

}  // namespace brelay::net
