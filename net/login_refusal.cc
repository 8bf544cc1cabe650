#include "net/login_refusal.h"

namespace brelay::net {

std::string_view login_refusal_name(LoginRefusal reason) {
  switch (reason) {
    case LoginRefusal::kBadPassword: return "bad_password";
    case LoginRefusal::kUnknownAccount: return "unknown_account";
    case LoginRefusal::kHostNotAllowed: return "host_not_allowed";
    case LoginRefusal::kTlsRequired: return "tls_required";
    case LoginRefusal::kBlocked: return "blocked";
    case LoginRefusal::kMalformed: return "malformed";
    case LoginRefusal::kTimeout: return "timeout";
    case LoginRefusal::kAccountThrottled: return "account_throttled";
    case LoginRefusal::kMaxConnections: return "max_connections";
    case LoginRefusal::kMaxUserConnections: return "max_user_connections";
    case LoginRefusal::kUnauthenticatedLimit: return "unauthenticated_limit";
  }
  return "unknown";
}

bool is_auth_failure(LoginRefusal reason) {
  return reason != LoginRefusal::kMaxConnections && reason != LoginRefusal::kMaxUserConnections &&
         reason != LoginRefusal::kUnauthenticatedLimit;
}

}  // namespace brelay::net
