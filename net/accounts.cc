#include "net/accounts.h"

namespace brelay::net {

Account Account::from_password(std::string_view password, std::string role) {
  return Account{.native_hash = native_password_hash(password),
                 .sha2_hash = caching_sha2_password_hash(password),
                 .role = std::move(role)};
}

bool Account::has_empty_password() const {
  if (sha2_hash) return verify_caching_sha2_password("", *sha2_hash);
  if (native_hash) return verify_native_password("", *native_hash);
  return false;
}

std::optional<Account> StaticAccountStore::find(std::string_view user) const {
  auto it = accounts_.find(user);
  if (it == accounts_.end()) return std::nullopt;
  return it->second;
}

}  // namespace brelay::net
