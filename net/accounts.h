// Accounts the server side checks logins against. net/ only needs a name -> hashes lookup; the
// role is opaque here (relay/ defines "replica", "admin", ...) and is handed back on the session.
// An AccountStore is immutable once shared with the server: reloading accounts means building a new
// store and handing it to MySqlServer::set_accounts() (sessions already logged in are unaffected).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/auth_caching_sha2.h"
#include "net/auth_native.h"
#include "net/ip_range.h"

namespace brelay::net {

struct Account {
  std::optional<NativePasswordHash> native_hash;     // SHA1(SHA1(password)) for mysql_native_password
  std::optional<CachingSha2PasswordHash> sha2_hash;  // SHA256(SHA256(password)) for caching_sha2_password
  std::string role;
  // Where the account may log in from (MySQL's user@host); empty: anywhere. A login from elsewhere
  // is answered exactly as for an account that does not exist.
  std::vector<IpRange> hosts;
  bool require_tls = false;           // a login without TLS is answered as for an unknown account
  std::uint32_t max_connections = 0;  // sessions at once (ERR 1226 beyond); 0: no own limit
  bool reserved_connection = false;   // may take the one session kept beyond max_connections

  // Both hashes of `password`.
  static Account from_password(std::string_view password, std::string role);
  bool has_empty_password() const;
  // True when `address` (the client's IP as text) is within hosts, or hosts is empty.
  bool host_allowed(std::string_view address) const;
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
