// The server's side of authentication after the HandshakeResponse, as a state machine without I/O:
// it is told what the client sent and answers with the payloads to send and whether the login is
// accepted, rejected or still going. ServerSession drives it.
//
// Which exchange an account gets, by the plugin the client named in its response:
//   mysql_native_password + native hash           -> scramble checked at once
//   caching_sha2_password + sha2 hash             -> fast path (0x01 0x03, then OK)
//   caching_sha2_password, native only, TLS       -> full authentication (0x01 0x04): the password
//                                                    over TLS
//   caching_sha2_password, native only, plain     -> switched to mysql_native_password (as mysqld does;
//                                                    never a full authentication, so never a password
//                                                    in clear outside TLS)
//   mysql_native_password, sha2 hash only         -> switched to caching_sha2_password
//   any other plugin                              -> switched to the greeting's plugin (to
//                                                    caching_sha2_password when that is native and
//                                                    the account has no native hash; to
//                                                    mysql_native_password for a native-only account)
// An unknown user and a wrong password get the same ERR 1045 (28000), after the same exchange: an
// unknown user (or one answered as unknown: host not allowed, TLS required, budget spent) goes
// through a decoy account shaped as a [[users]] password account is (both hashes), whose password
// is derived from a per-process secret and the user name (so a user's exchanges stay alike from
// one try to the next) and which never logs in. Accounts configured with one hash only differ
// from the decoy as they differ from password accounts (which plugin they switch to).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "net/accounts.h"
#include "net/auth_caching_sha2.h"
#include "net/mysql_packets.h"

namespace brelay::net {

// How a login was verified (for session information, logs and tests).
enum class AuthMethod {
  kNone,                  // not (yet) verified
  kEmptyPassword,         // an account without password, an empty answer
  kNativeScramble,        // mysql_native_password
  kSha2FastPath,          // caching_sha2_password scramble checked against SHA256(SHA256(password))
  kSha2FullOverTls,       // caching_sha2_password full authentication: the password over TLS
  kSha2FullRsa,           // caching_sha2_password full authentication: RSA-encrypted password
  kSha2CleartextOverTls,  // caching_sha2_password first answer is the password (Connector/C over TLS)
};
std::string_view auth_method_name(AuthMethod method);

// The decoy account for an unknown `user` (see above): the same for the same user in one process.
Account decoy_account(std::string_view user);

struct AuthStep {
  enum class Outcome { kContinue, kAccept, kReject };
  std::vector<Bytes> send;  // payloads to send before anything else (AuthSwitchRequest, AuthMoreData)
  Outcome outcome = Outcome::kContinue;
  ErrPacket rejection;  // with kReject

  static AuthStep send_and_continue(Bytes payload);
};

class ServerAuthExchange {
 public:
  struct Params {
    std::string user;
    std::string client_host;                     // for the "Access denied for user 'u'@'host'" message
    std::optional<Account> account;              // std::nullopt: no such user
    Bytes nonce;                                 // the greeting's 20 bytes
    bool secure_transport = false;               // TLS is active
    std::shared_ptr<const RsaKeyPair> rsa_keys;  // null: no RSA exchange
    std::string greeting_plugin = kNativePasswordPlugin;
  };

  explicit ServerAuthExchange(Params params);

  // The HandshakeResponse's plugin name (empty: pre-plugin client, taken as native) and auth response.
  AuthStep begin(std::string_view client_plugin, ByteView auth_response);
  // The next packet from the client.
  AuthStep on_client_data(ByteView data);

  // True when the client's next packet needs the RSA key (full authentication without TLS) and
  // the exchange has none yet; set_rsa_keys() gives it one (a key generated after the login began).
  bool needs_rsa_keys() const;
  void set_rsa_keys(std::shared_ptr<const RsaKeyPair> keys) { params_.rsa_keys = std::move(keys); }

  // The plugin the login finished with, and how the password was checked.
  const std::string& plugin() const { return plugin_; }
  AuthMethod method() const { return method_; }

 private:
  enum class State { kStart, kAwaitSwitchResponse, kAwaitFullAuth, kAwaitRsaPassword, kDone };

  AuthStep check_native_scramble(ByteView response);
  AuthStep check_caching_sha2_response(ByteView response);
  AuthStep check_full_auth_data(ByteView data);
  AuthStep check_cleartext(std::string_view password, AuthMethod method);
  bool password_matches(std::string_view password) const;
  bool needs_native_switch() const;  // a native-hash-only account on a plain connection
  AuthStep switch_to(std::string plugin);
  AuthStep accept(AuthMethod method, std::vector<Bytes> send = {});
  AuthStep reject(bool password_used);
  AuthStep reject_with(ErrPacket err);

  Params params_;
  bool decoy_ = false;  // params_.account is decoy_account(user): never accepted
  State state_ = State::kStart;
  std::string plugin_;
  AuthMethod method_ = AuthMethod::kNone;
};

}  // namespace brelay::net
