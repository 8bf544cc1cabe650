#include "net/server_auth.h"

#include <openssl/rand.h>

#include <random>

#include "net/digests.h"
#include "net/mysql_handshake.h"

namespace brelay::net {
namespace {

constexpr std::size_t kCachingSha2ScrambleSize = 32;

// 32 random bytes drawn once per process.
const Sha256Digest& decoy_secret() {
  static const Sha256Digest secret = [] {
    Sha256Digest bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      std::random_device device;
      for (auto& byte : bytes)
        byte = static_cast<std::uint8_t>(device());
    }
    return bytes;
  }();
  return secret;
}

}  // namespace

Account decoy_account(std::string_view user) {
  static constexpr char kHex[] = "0123456789abcdef";
  const Sha256Digest key = sha256({ByteView(decoy_secret()), as_bytes(user)});
  std::string password;
  for (std::uint8_t byte : key) {
    password.push_back(kHex[byte >> 4]);
    password.push_back(kHex[byte & 0x0f]);
  }
  return Account::from_password(password, "");
}

ServerAuthExchange::ServerAuthExchange(Params params) : params_(std::move(params)) {
  if (!params_.account) {
    params_.account = decoy_account(params_.user);
    decoy_ = true;
  }
}

std::string_view auth_method_name(AuthMethod method) {
  switch (method) {
    case AuthMethod::kNone: return "none";
    case AuthMethod::kEmptyPassword: return "empty password";
    case AuthMethod::kNativeScramble: return "native scramble";
    case AuthMethod::kSha2FastPath: return "sha2 fast path";
    case AuthMethod::kSha2FullOverTls: return "sha2 full authentication over TLS";
    case AuthMethod::kSha2FullRsa: return "sha2 full authentication with RSA";
    case AuthMethod::kSha2CleartextOverTls: return "sha2 password over TLS";
  }
  return "unknown";
}

AuthStep AuthStep::send_and_continue(Bytes payload) {
  AuthStep step;
  step.send.push_back(std::move(payload));
  return step;
}

AuthStep ServerAuthExchange::begin(std::string_view client_plugin, ByteView auth_response) {
  if (state_ != State::kStart) return reject_with({error_code::kHandshakeError, "08S01", "Bad handshake"});
  plugin_ = client_plugin.empty() ? kNativePasswordPlugin : std::string(client_plugin);
  const Account& account = *params_.account;
  // A client whose own plugin differs from the one the greeting proposed has no scramble for it
  // (Connector/C drops the greeting's data then) and answers with nothing: restart the exchange
  // with an auth switch to its plugin, as MySQL's server does, instead of judging the empty answer.
  if (auth_response.empty() && plugin_ != params_.greeting_plugin && !account.has_empty_password()) {
    if (plugin_ == kNativePasswordPlugin && account.native_hash) return switch_to(kNativePasswordPlugin);
    if (plugin_ == kCachingSha2Plugin)
      return switch_to(needs_native_switch() ? kNativePasswordPlugin : kCachingSha2Plugin);
  }
  if (plugin_ == kNativePasswordPlugin) {
    if (account.native_hash) return check_native_scramble(auth_response);
    return switch_to(kCachingSha2Plugin);
  }
  if (plugin_ == kCachingSha2Plugin) return check_caching_sha2_response(auth_response);
  // sha256_password, ed25519, cleartext, ...: switch to a plugin this account can be checked with.
  if (account.native_hash && (params_.greeting_plugin == kNativePasswordPlugin || !account.sha2_hash))
    return switch_to(kNativePasswordPlugin);
  return switch_to(kCachingSha2Plugin);
}

AuthStep ServerAuthExchange::on_client_data(ByteView data) {
  switch (state_) {
    case State::kAwaitSwitchResponse:
      if (plugin_ == kNativePasswordPlugin) return check_native_scramble(data);
      return check_caching_sha2_response(data);
    case State::kAwaitFullAuth: return check_full_auth_data(data);
    case State::kAwaitRsaPassword: {
      if (!params_.rsa_keys) return reject(true);
      auto password = params_.rsa_keys->decrypt_password(data, params_.nonce);
      if (!password) return reject(true);
      return check_cleartext(*password, AuthMethod::kSha2FullRsa);
    }
    case State::kStart:
    case State::kDone: break;
  }
  return reject_with({error_code::kHandshakeError, "08S01", "Bad handshake"});
}

AuthStep ServerAuthExchange::check_native_scramble(ByteView response) {
  const Account& account = *params_.account;
  if (response.empty())
    return account.has_empty_password() ? accept(AuthMethod::kEmptyPassword) : reject(false);
  if (account.native_hash && verify_native_password_scramble(response, params_.nonce, *account.native_hash))
    return accept(AuthMethod::kNativeScramble);
  return reject(true);
}

AuthStep ServerAuthExchange::check_caching_sha2_response(ByteView response) {
  const Account& account = *params_.account;
  if (response.empty() || (response.size() == 1 && response[0] == 0))
    return account.has_empty_password() ? accept(AuthMethod::kEmptyPassword) : reject(false);
  if (account.sha2_hash && verify_caching_sha2_scramble(response, params_.nonce, *account.sha2_hash))
    return accept(AuthMethod::kSha2FastPath, {encode_auth_more_data(Bytes{caching_sha2::kFastAuthSuccess})});
  // Over TLS, MariaDB Connector/C sends the password itself (NUL-terminated) as its first answer.
  // A 32-byte answer ending in NUL may still be a scramble, so it falls through when it fails.
  if (params_.secure_transport && response.back() == 0) {
    if (password_matches(as_text(response.first(response.size() - 1))))
      return accept(AuthMethod::kSha2CleartextOverTls);
    if (response.size() != kCachingSha2ScrambleSize) return reject(true);
  }
  if (account.sha2_hash) return reject(true);
  // A native-hash-only account on a plain connection: full authentication would make MariaDB
  // Connector/C send the password in clear. mysqld switches such an account to its own plugin
  // (mysql_native_password) with the greeting's nonce, and so does the relay.
  if (needs_native_switch() && state_ == State::kStart) return switch_to(kNativePasswordPlugin);
  state_ = State::kAwaitFullAuth;
  return AuthStep::send_and_continue(encode_auth_more_data(Bytes{caching_sha2::kPerformFullAuthentication}));
}

AuthStep ServerAuthExchange::check_full_auth_data(ByteView data) {
  if (params_.secure_transport) {
    std::string_view password = as_text(data);
    if (!password.empty() && password.back() == '\0') password.remove_suffix(1);
    return check_cleartext(password, AuthMethod::kSha2FullOverTls);
  }
  if (!params_.rsa_keys) {
    return reject_with(
        {error_code::kAccessDenied, "28000",
         fmt::format("Access denied for user '{}'@'{}': this account needs full authentication, "
                     "which requires TLS (the server has no RSA key for caching_sha2_password)",
                     params_.user, params_.client_host)});
  }
  if (data.size() == 1 && data[0] == caching_sha2::kRequestPublicKey) {
    state_ = State::kAwaitRsaPassword;
    return AuthStep::send_and_continue(encode_auth_more_data(as_bytes(params_.rsa_keys->public_key_pem())));
  }
  auto password = params_.rsa_keys->decrypt_password(data, params_.nonce);
  if (!password) return reject(true);
  return check_cleartext(*password, AuthMethod::kSha2FullRsa);
}

bool ServerAuthExchange::needs_rsa_keys() const {
  if (params_.rsa_keys) return false;
  return (state_ == State::kAwaitFullAuth && !params_.secure_transport) || state_ == State::kAwaitRsaPassword;
}

bool ServerAuthExchange::needs_native_switch() const {
  const Account& account = *params_.account;
  return !params_.secure_transport && account.native_hash && !account.sha2_hash;
}

bool ServerAuthExchange::password_matches(std::string_view password) const {
  const Account& account = *params_.account;
  if (account.sha2_hash) return verify_caching_sha2_password(password, *account.sha2_hash);
  if (account.native_hash) return verify_native_password(password, *account.native_hash);
  return false;
}

AuthStep ServerAuthExchange::check_cleartext(std::string_view password, AuthMethod method) {
  if (password_matches(password)) return accept(method);
  return reject(!password.empty());
}

AuthStep ServerAuthExchange::switch_to(std::string plugin) {
  plugin_ = std::move(plugin);
  state_ = State::kAwaitSwitchResponse;
  Bytes data = params_.nonce;
  data.push_back(0);
  return AuthStep::send_and_continue(
      encode_auth_switch_request({.plugin_name = plugin_, .plugin_data = std::move(data)}));
}

AuthStep ServerAuthExchange::accept(AuthMethod method, std::vector<Bytes> send) {
  if (decoy_) return reject(true);
  state_ = State::kDone;
  method_ = method;
  AuthStep step;
  step.send = std::move(send);
  step.outcome = AuthStep::Outcome::kAccept;
  return step;
}

AuthStep ServerAuthExchange::reject(bool password_used) {
  return reject_with({error_code::kAccessDenied, "28000",
                      fmt::format("Access denied for user '{}'@'{}' (using password: {})", params_.user,
                                  params_.client_host, password_used ? "YES" : "NO")});
}

AuthStep ServerAuthExchange::reject_with(ErrPacket err) {
  state_ = State::kDone;
  AuthStep step;
  step.outcome = AuthStep::Outcome::kReject;
  step.rejection = std::move(err);
  return step;
}

}  // namespace brelay::net
