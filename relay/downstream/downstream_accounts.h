// The relay's accounts: [[users]] of the configuration (relay/config.h) as net/'s AccountStore, so
// that both auth plugins work for each: a plain password gives both hashes; native_hash serves
// mysql_native_password and sha2_hash caching_sha2_password (an account with only one of them can
// log in only with that plugin, or over the other's full authentication where it needs none).
// Roles travel as text on the session: "replica" (dump, read status) and "admin" (also PURGE and
// relay control).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/accounts.h"
#include "relay/core/config.h"

namespace brelay::relay::downstream {

inline constexpr std::string_view kReplicaRole = "replica";
inline constexpr std::string_view kAdminRole = "admin";

// The addresses of the host names in [[users]] hosts, by name.
using HostAddresses = std::map<std::string, std::vector<net::IpBytes>, std::less<>>;

// Errors name the user whose hash or hosts entry does not parse. A host name missing from
// `resolved` matches no client (it is logged once resolution fails: resolve_host_names()).
Result<std::shared_ptr<const net::AccountStore>> make_account_store(const std::vector<UserConfig>& users,
                                                                    const HostAddresses& resolved = {});

// The host names (not addresses or ranges) that [[users]] hosts name.
std::vector<std::string> account_host_names(const std::vector<UserConfig>& users);
// Resolves `names` with getaddrinfo: BLOCKS for as long as DNS takes, so never on the loop thread
// while sessions are served (the server resolves at start, and on a reload on a thread of its own).
// A name that does not resolve is logged and left out.
HostAddresses resolve_host_names(const std::vector<std::string>& names);

}  // namespace brelay::relay::downstream
