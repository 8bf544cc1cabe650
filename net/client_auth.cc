#include "net/client_auth.h"

#include "net/auth_caching_sha2.h"
#include "net/auth_native.h"
#include "net/mysql_handshake.h"

namespace brelay::net {

ClientAuthStep ClientAuthStep::send_data(Bytes data) {
  ClientAuthStep step;
  step.outcome = Outcome::kSend;
  step.send = std::move(data);
  return step;
}
ClientAuthStep ClientAuthStep::wait() {
  return ClientAuthStep();
}
ClientAuthStep ClientAuthStep::accepted(OkPacket ok) {
  ClientAuthStep step;
  step.outcome = Outcome::kAccepted;
  step.ok = std::move(ok);
  return step;
}
ClientAuthStep ClientAuthStep::rejected(ErrPacket error) {
  ClientAuthStep step;
  step.outcome = Outcome::kRejected;
  step.error = std::move(error);
  return step;
}

std::string ClientAuthExchange::initial_plugin(std::string_view greeting_plugin) const {
  if (greeting_plugin == kCachingSha2Plugin) return kCachingSha2Plugin;
  return kNativePasswordPlugin;
}

Bytes ClientAuthExchange::initial_response(std::string_view plugin, ByteView nonce) {
  plugin_ = std::string(plugin);
  const ByteView n = nonce_from_plugin_data(nonce);
  nonce_.assign(n.begin(), n.end());
  state_ = State::kResponseSent;
  if (plugin_ == kCachingSha2Plugin) return caching_sha2_scramble(params_.password, nonce_);
  return native_password_scramble(params_.password, nonce_);
}

Result<ClientAuthStep> ClientAuthExchange::on_server_packet(ByteView payload) {
  if (payload.empty()) return make_error("empty packet from the server during authentication");
  switch (payload[0]) {
    case kOkHeader: {
      BRELAY_ASSIGN_OR_RETURN(auto ok, decode_ok(payload, params_.capabilities));
      return ClientAuthStep::accepted(std::move(ok));
    }
    case kErrHeader: {
      BRELAY_ASSIGN_OR_RETURN(auto err, decode_err(payload));
      return ClientAuthStep::rejected(std::move(err));
    }
    case 0xfe: {
      BRELAY_ASSIGN_OR_RETURN(auto request, decode_auth_switch_request(payload));
      if (request.plugin_name != kNativePasswordPlugin && request.plugin_name != kCachingSha2Plugin) {
        return make_error(
            "the server asks for the auth plugin '{}', which this client does not support "
            "(only mysql_native_password and caching_sha2_password)",
            request.plugin_name);
      }
      Bytes response = initial_response(request.plugin_name, request.plugin_data);
      return ClientAuthStep::send_data(std::move(response));
    }
    case 0x01: {
      BRELAY_ASSIGN_OR_RETURN(auto data, decode_auth_more_data(payload));
      return on_more_data(data);
    }
    default:
      return make_error("unexpected packet 0x{:02x} from the server during authentication", payload[0]);
  }
}

Result<ClientAuthStep> ClientAuthExchange::on_more_data(ByteView data) {
  if (plugin_ != kCachingSha2Plugin)
    return make_error("unexpected AuthMoreData from the server for the plugin {}", plugin_);
  if (state_ == State::kAwaitPublicKey) return send_encrypted(as_text(data));
  if (state_ != State::kResponseSent || data.size() != 1)
    return make_error("unexpected AuthMoreData ({} bytes) from the server in caching_sha2_password",
                      data.size());
  if (data[0] == caching_sha2::kFastAuthSuccess) return ClientAuthStep::wait();
  if (data[0] != caching_sha2::kPerformFullAuthentication)
    return make_error("unexpected caching_sha2_password status 0x{:02x} from the server", data[0]);
  if (params_.secure_transport) {
    state_ = State::kFinalSent;
    Bytes password = to_bytes(params_.password);
    password.push_back(0);
    return ClientAuthStep::send_data(std::move(password));
  }
  if (params_.server_public_key_pem) return send_encrypted(*params_.server_public_key_pem);
  if (!params_.allow_public_key_request) {
    return make_error(
        "the server requires full caching_sha2_password authentication: use TLS, give the "
        "server's RSA public key, or allow requesting it");
  }
  state_ = State::kAwaitPublicKey;
  return ClientAuthStep::send_data(Bytes{caching_sha2::kRequestPublicKey});
}

Result<ClientAuthStep> ClientAuthExchange::send_encrypted(std::string_view public_key_pem) {
  BRELAY_ASSIGN_OR_RETURN(auto cipher,
                          caching_sha2_encrypt_password(public_key_pem, params_.password, nonce_));
  state_ = State::kFinalSent;
  return ClientAuthStep::send_data(std::move(cipher));
}

}  // namespace brelay::net
