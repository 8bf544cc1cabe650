// The server half of the MySQL protocol: listens on one or more "host:port" addresses, greets and
// authenticates every client (TLS, mysql_native_password, caching_sha2_password) and hands each
// authenticated session to a SessionHandler that relay/ supplies.
//
// Limits (all on the loop thread, no waiting):
// - max_connections logged-in sessions; a login beyond gets ERR 1040 after its password was
//   checked, except one more for an account with reserved_connection (MySQL's extra connection
//   for CONNECTION_ADMIN); an account's own max_connections gives ERR 1226.
// - max_unauthenticated sessions still in the handshake, counted apart and ended after
//   handshake_timeout: when they are all taken, a new connection takes the place of the oldest
//   handshake of the address holding the most, so a burst of silent connections never keeps
//   another client (a replica) from logging in.
// - failed logins per address group (ConnectErrorTable: IPv4 address, IPv6 /64): the answer to a
//   failed password is held back for a growing delay (a timer; sessions meanwhile wait without
//   reading), and a group with max_connect_errors failures in a row gets ERR 1129 until
//   flush_hosts() or a success resets it; blocked groups are never forgotten to make room (when the
//   table holds nothing else, new groups get ERR 1129 too).
// - failed passwords per account (AccountFailureBudget): with the account's budget spent, logins
//   to it from groups that never logged in to it are answered as for an unknown account.
// Every refused or failed login is reported to on_login_refused (for logs and metrics).
//
// Settings that change at run time (set_*) apply to sessions that start afterwards; sessions keep
// what they started with (a TLS context reloaded on SIGHUP: new sessions get the new one, existing
// ones keep theirs). Everything runs on the loop thread. The server must outlive its sessions'
// callbacks: destroy it from outside its own callbacks (after shutdown(), or with the loop stopped).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "net/accounts.h"
#include "net/auth_caching_sha2.h"
#include "net/connect_errors.h"
#include "net/event_loop.h"
#include "net/login_refusal.h"
#include "net/mysql_constants.h"
#include "net/rsa_key_source.h"
#include "net/server_session.h"
#include "net/session_handler.h"
#include "net/tcp_listener.h"
#include "net/tls_context.h"

namespace brelay::net {

struct ServerSettings {
  // The greeting's version string; the relay reports its source's ("8.0.36", "5.5.5-10.11.6-MariaDB").
  std::string server_version = "8.0.36-binlog-relay";
  std::shared_ptr<const TlsContext> tls;         // null: TLS is not offered
  bool require_tls = false;                      // refuse logins without TLS (ERR 3159)
  std::shared_ptr<const AccountStore> accounts;  // null: nobody can log in
  std::shared_ptr<const RsaKeyPair> rsa_keys;    // null: caching_sha2 full authentication needs TLS
  std::shared_ptr<RsaKeySource> rsa_key_source;  // when rsa_keys is null: a key being generated
  // The plugin the greeting proposes (MySQL 8 clients start with the greeting's plugin).
  std::string greeting_auth_plugin = kNativePasswordPlugin;
  std::chrono::milliseconds handshake_timeout{10'000};   // from connect to logged in (connect_timeout)
  std::chrono::milliseconds idle_timeout{8 * 3600'000};  // between commands; 0 = never
  // A client that takes none of the bytes waiting for it this long is disconnected (MySQL's
  // net_write_timeout); 0 = never.
  std::chrono::milliseconds write_timeout{60'000};
  std::size_t max_packet_before_auth = 64 * 1024;
  std::size_t max_packet = 64 * 1024 * 1024;  // max_allowed_packet after the login (MySQL's default)
  std::size_t max_connections = 151;          // logged-in sessions (one more for reserved_connection)
  std::size_t max_unauthenticated = 64;       // sessions still in the handshake
  std::uint64_t max_connect_errors = 100;     // failed logins in a row before an address is blocked
  std::size_t connect_error_capacity = ConnectErrorTable::kDefaultCapacity;   // addresses remembered
  std::uint64_t account_failure_burst = AccountFailureBudget::kDefaultBurst;  // wrong passwords per account
  std::chrono::milliseconds account_failure_refill = AccountFailureBudget::kDefaultRefill;  // one given back
  LoginRefusalObserver on_login_refused;                                                    // may be empty
  // Asked once a login's password and limits passed, before the session counts: an ERR refuses it
  // (the relay refuses replica accounts until it knows its source). May be empty.
  std::function<std::optional<ErrPacket>(const ServerSession&)> admit;
  std::uint32_t first_connection_id = 1;
  std::uint8_t charset = charset::kUtf8mb4GeneralCi;
};

class MySqlServer {
 public:
  MySqlServer(EventLoop& loop, ServerSettings settings, SessionHandlerFactory handler_factory);
  // Closes the listeners and every session at once; handlers are destroyed without on_closed().
  ~MySqlServer();
  MySqlServer(const MySqlServer&) = delete;
  MySqlServer& operator=(const MySqlServer&) = delete;

  // Starts listening on "host:port" (an IP literal; port 0 picks a free port). May be called more
  // than once (IPv4 and IPv6).
  Status listen(std::string_view host_port);
  // The port of the first listener (0 before listen()).
  std::uint16_t port() const;

  const ServerSettings& settings() const { return settings_; }
  void set_server_version(std::string version) { settings_.server_version = std::move(version); }
  void set_tls_context(std::shared_ptr<const TlsContext> tls) { settings_.tls = std::move(tls); }
  void set_require_tls(bool require) { settings_.require_tls = require; }
  void set_accounts(std::shared_ptr<const AccountStore> accounts) {
    settings_.accounts = std::move(accounts);
  }
  void set_greeting_auth_plugin(std::string plugin) { settings_.greeting_auth_plugin = std::move(plugin); }

  // The session with this connection id, or null. Valid until its handler hears on_closed().
  ServerSession* find_session(std::uint32_t connection_id);
  std::vector<ServerSession*> sessions();
  std::size_t session_count() const { return sessions_.size(); }
  std::size_t authenticated_count() const { return authenticated_; }
  std::size_t unauthenticated_count() const { return sessions_.size() - authenticated_; }

  // FLUSH HOSTS: forgets every address's failed logins (unblocks them). Returns how many were blocked.
  std::size_t flush_hosts() {
    account_failures_.flush();
    return connect_errors_.flush();
  }
  const ConnectErrorTable& connect_errors() const { return connect_errors_; }

  // Stops listening and closes every session (their handlers hear on_closed()).
  void shutdown();

 private:
  friend class ServerSession;
  void accept(std::unique_ptr<TcpConnection> connection);
  void refuse(std::unique_ptr<TcpConnection> connection, const ErrPacket& error);
  std::uint32_t next_connection_id();
  // Called by a session from its close callback; destroys it.
  void session_closed(std::uint32_t connection_id);
  // Called by sessions: a failed login (returns how long to hold the answer back), the check of
  // an address before the greeting and the password, and a login whose password was right (the
  // limits: an ERR to answer instead of OK, or none; with none the session counts as logged in).
  std::chrono::milliseconds login_failed(LoginRefusal reason, std::string_view user,
                                         std::string_view address);
  bool address_blocked(std::string_view address) const { return connect_errors_.blocked(address); }
  bool account_login_allowed(std::string_view user, std::string_view address) {
    return account_failures_.allows(user, address, AccountFailureBudget::Clock::now());
  }
  static ErrPacket host_blocked_error(std::string_view address);
  std::optional<ErrPacket> admit_login(ServerSession& session, const Account& account);
  void report(LoginRefusal reason, std::string_view user, std::string_view address);
  void make_room_for_handshake();

  EventLoop& loop_;
  ServerSettings settings_;
  SessionHandlerFactory handler_factory_;
  std::vector<std::unique_ptr<TcpListener>> listeners_;
  std::unordered_map<std::uint32_t, std::unique_ptr<ServerSession>> sessions_;
  std::uint32_t next_id_;
  std::size_t authenticated_ = 0;                               // sessions_ counted as logged in
  std::unordered_map<std::string, std::size_t> user_sessions_;  // logged-in sessions per account
  ConnectErrorTable connect_errors_;
  AccountFailureBudget account_failures_;
  std::uint64_t accepted_ = 0;  // connections accepted, to order handshakes by age
  std::shared_ptr<std::size_t> refusing_ = std::make_shared<std::size_t>(0);  // refusals being sent
};

}  // namespace brelay::net
