// Accounts the server side checks logins against. net/ only needs a name -> hashes lookup; the
// role is opaque here (relay/ defines "replica", "admin", ...) and is handed back on the session.
// An AccountStore is immutable once shared with the server: reloading accounts means building a new
// store and handing it to MySqlServer::set_accounts() (sessions already logged in are unaffected).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "net/auth_caching_sha2.h"
#include "net/auth_native.h"

namespace brelay::net {

struct Account {
  std::optional<NativePasswordHash> native_hash;     // SHA1(SHA1(password)) for mysql_native_password
  std::optional<CachingSha2PasswordHash> sha2_hash;  // SHA256(SHA256(password)) for caching_sha2_password
  std::string role;

  // Both hashes of `password`.
  static Account from_password(std::string_view password, std::string role);
  bool has_empty_password() const;
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  // The account named `user`, or std::nullopt. Called on the loop thread during logins.
  virtual std::optional<Account> find(std::string_view user) const = 0;
};

// An AccountStore held in memory, filled before it is shared.
class StaticAccountStore final : public AccountStore {
 public:
  void add(std::string user, Account account) { accounts_[std::move(user)] = std::move(account); }
  std::optional<Account> find(std::string_view user) const override;

 private:
  std::map<std::string, Account, std::less<>> accounts_;
};

}  // namespace brelay::net
