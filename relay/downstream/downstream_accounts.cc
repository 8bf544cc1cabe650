#include "relay/downstream/downstream_accounts.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <set>

#include <spdlog/spdlog.h>

#include "net/auth_caching_sha2.h"
#include "net/auth_native.h"

namespace brelay::relay::downstream {
namespace {

bool is_host_name(const std::string& entry) {
  return entry != "%" && !net::IpRange::parse(entry);
}

// hosts, limits and TLS of one [[users]] entry.
Status apply_restrictions(const UserConfig& user, const HostAddresses& resolved, net::Account& account) {
  account.require_tls = user.require_tls;
  account.max_connections = user.max_connections;
  account.reserved_connection = user.role == Role::kAdmin;
  for (const std::string& entry : user.hosts) {
    if (entry == "%") {
      account.hosts.clear();
      return {};
    }
    if (auto range = net::IpRange::parse(entry)) {
      account.hosts.push_back(*range);
      continue;
    }
    if (auto it = resolved.find(entry); it != resolved.end()) {
      for (const net::IpBytes& address : it->second)
        account.hosts.push_back(net::IpRange::single(address));
    }
  }
  // Only names that did not resolve: nobody may log in (not anybody).
  if (!user.hosts.empty() && account.hosts.empty()) account.hosts.push_back(*net::IpRange::parse("::/128"));
  return {};
}

}  // namespace

std::vector<std::string> account_host_names(const std::vector<UserConfig>& users) {
  std::set<std::string> names;
  for (const UserConfig& user : users)
    for (const std::string& entry : user.hosts)
      if (is_host_name(entry)) names.insert(entry);
  return {names.begin(), names.end()};
}

HostAddresses resolve_host_names(const std::vector<std::string>& names) {
  HostAddresses resolved;
  for (const std::string& name : names) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
    if (rc != 0) {
      spdlog::warn(
          "[[users]] hosts: '{}' does not resolve ({}): it matches no client until it does and "
          "the configuration is reloaded (SIGHUP)",
          name, gai_strerror(rc));
      continue;
    }
    std::vector<net::IpBytes>& addresses = resolved[name];
    for (const addrinfo* info = list; info != nullptr; info = info->ai_next) {
      net::IpBytes bytes{};
      if (info->ai_family == AF_INET) {
        bytes[10] = 0xff;
        bytes[11] = 0xff;
        std::memcpy(bytes.data() + 12, &reinterpret_cast<const sockaddr_in*>(info->ai_addr)->sin_addr, 4);
      } else if (info->ai_family == AF_INET6) {
        std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6*>(info->ai_addr)->sin6_addr, 16);
      } else {
        continue;
      }
      if (std::find(addresses.begin(), addresses.end(), bytes) == addresses.end()) addresses.push_back(bytes);
    }
    ::freeaddrinfo(list);
    spdlog::info("[[users]] hosts: '{}' resolves to {} address(es)", name, addresses.size());
  }
  return resolved;
}

Result<std::shared_ptr<const net::AccountStore>> make_account_store(const std::vector<UserConfig>& users,
                                                                    const HostAddresses& resolved) {
  auto store = std::make_shared<net::StaticAccountStore>();
  for (const UserConfig& user : users) {
    const std::string role(user.role == Role::kAdmin ? kAdminRole : kReplicaRole);
    if (user.password) {
      net::Account account = net::Account::from_password(*user.password, role);
      BRELAY_TRY(apply_restrictions(user, resolved, account));
      store->add(user.name, std::move(account));
      continue;
    }
    net::Account account;
    account.role = role;
    BRELAY_TRY(apply_restrictions(user, resolved, account));
    if (!user.native_hash.empty()) {
      auto hash = net::parse_native_password_hash(user.native_hash);
      if (!hash) return make_error("user '{}': native_hash: {}", user.name, hash.error().message());
      account.native_hash = *hash;
    }
    if (!user.sha2_hash.empty()) {
      auto hash = net::parse_caching_sha2_password_hash(user.sha2_hash);
      if (!hash) return make_error("user '{}': sha2_hash: {}", user.name, hash.error().message());
      account.sha2_hash = *hash;
    }
    store->add(user.name, std::move(account));
  }
  return std::shared_ptr<const net::AccountStore>(std::move(store));
}

}  // namespace brelay::relay::downstream
