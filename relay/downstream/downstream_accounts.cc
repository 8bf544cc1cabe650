#include "relay/downstream/downstream_accounts.h"

#include "net/auth_caching_sha2.h"
#include "net/auth_native.h"

namespace brelay::relay::downstream {

Result<std::shared_ptr<const net::AccountStore>> make_account_store(const std::vector<UserConfig>& users) {
  auto store = std::make_shared<net::StaticAccountStore>();
  for (const UserConfig& user : users) {
    const std::string role(user.role == Role::kAdmin ? kAdminRole : kReplicaRole);
    if (user.password) {
      store->add(user.name, net::Account::from_password(*user.password, role));
      continue;
    }
    net::Account account;
    account.role = role;
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
