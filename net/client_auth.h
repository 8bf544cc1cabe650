// The client's side of authentication as a state machine without I/O: it computes the auth response
// for the greeting, then is handed every packet the server sends until OK or ERR, answering with
// the payload to send next. Supports mysql_native_password and caching_sha2_password (fast path,
// full authentication over TLS, and the RSA exchange without TLS), and AuthSwitchRequest.
// MySqlClient drives it.
#pragma once

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "net/mysql_packets.h"

namespace brelay::net {

struct ClientAuthStep {
  enum class Outcome { kSend, kWait, kAccepted, kRejected };
  Outcome outcome = Outcome::kWait;
  Bytes send;       // with kSend
  OkPacket ok;      // with kAccepted
  ErrPacket error;  // with kRejected

  static ClientAuthStep send_data(Bytes data);
  static ClientAuthStep wait();
  static ClientAuthStep accepted(OkPacket ok);
  static ClientAuthStep rejected(ErrPacket error);
};

class ClientAuthExchange {
 public:
  struct Params {
    std::string password;
    bool secure_transport = false;
    std::optional<std::string> server_public_key_pem;  // caching_sha2_password: skip asking for the key
    bool allow_public_key_request = true;              // ask the server for its RSA key without TLS
    std::uint32_t capabilities = 0;                    // negotiated, for decoding OK
  };

  explicit ClientAuthExchange(Params params) : params_(std::move(params)) {}

  // The plugin and auth response for the HandshakeResponse. An unsupported greeting plugin is
  // answered with mysql_native_password (the server will switch us if it needs to).
  std::string initial_plugin(std::string_view greeting_plugin) const;
  Bytes initial_response(std::string_view plugin, ByteView nonce);

  // A packet from the server during authentication (OK, ERR, AuthSwitchRequest, AuthMoreData).
  // Errors are protocol failures (unexpected packets, unsupported plugins, RSA failures).
  Result<ClientAuthStep> on_server_packet(ByteView payload);

  const std::string& plugin() const { return plugin_; }

 private:
  enum class State { kResponseSent, kAwaitFullAuthRequest, kAwaitPublicKey, kFinalSent };

  Result<ClientAuthStep> on_more_data(ByteView data);
  Result<ClientAuthStep> send_encrypted(std::string_view public_key_pem);

  Params params_;
  std::string plugin_;
  Bytes nonce_;
  State state_ = State::kResponseSent;
};

}  // namespace brelay::net
