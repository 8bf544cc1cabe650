#include "net/accounts.h"

namespace brelay::net {

Account Account::from_password(std::string_view password, std::string role) {
  Account account;
  account.native_hash = native_password_hash(password);
  account.sha2_hash = caching_sha2_password_hash(password);
  account.role = std::move(role);
  return account;
}

bool Account::has_empty_password() const {
  if (sha2_hash) return verify_caching_sha2_password("", *sha2_hash);
  if (native_hash) return verify_native_password("", *native_hash);
  return false;
}

bool Account::host_allowed(std::string_view address) const {
  if (hosts.empty()) return true;
  auto bytes = parse_ip(address);
  if (!bytes) return false;
  for (const IpRange& range : hosts)
    if (range.contains(*bytes)) return true;
  return false;
}

std::optional<Account> StaticAccountStore::find(std::string_view user) const {
  auto it = accounts_.find(user);
  if (it == accounts_.end()) return std::nullopt;
  return it->second;
}

}  // namespace brelay::net
