// The relay's accounts: [[users]] of the configuration (relay/config.h) as net/'s AccountStore, so
// that both auth plugins work for each: a plain password gives both hashes; native_hash serves
// mysql_native_password and sha2_hash caching_sha2_password (an account with only one of them can
// log in only with that plugin, or over the other's full authentication where it needs none).
// Roles travel as text on the session: "replica" (dump, read status) and "admin" (also PURGE and
// relay control).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/accounts.h"
#include "relay/core/config.h"

namespace brelay::relay::downstream {

inline constexpr std::string_view kReplicaRole = "replica";
inline constexpr std::string_view kAdminRole = "admin";

// Errors name the user whose hash does not parse.
Result<std::shared_ptr<const net::AccountStore>> make_account_store(const std::vector<UserConfig>& users);

}  // namespace brelay::relay::downstream
