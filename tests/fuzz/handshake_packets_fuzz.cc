// The connection-phase decoders (HandshakeV10, SSLRequest, HandshakeResponse41, AuthSwitchRequest,
// AuthMoreData), chosen by the first byte. Whatever decodes must encode again and decode to the
// same fields.
#include <cstddef>
#include <cstdint>

#include "net/mysql_handshake.h"

namespace {

using namespace brelay;
using namespace brelay::net;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const ByteView payload(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      auto greeting = decode_handshake_v10(payload);
      if (!greeting || greeting->nonce.size() < 8) return 0;
      auto again = decode_handshake_v10(encode_handshake_v10(*greeting));
      // Re-encoding normalises the nonce length field, so compare what survives a round trip.
      check(again.ok());
      check(again->server_version == greeting->server_version);
      check(again->connection_id == greeting->connection_id);
      check(again->capabilities == greeting->capabilities);
      break;
    }
    case 1: {
      auto request = decode_ssl_request(payload);
      if (!request) return 0;
      auto again = decode_ssl_request(encode_ssl_request(*request));
      check(again.ok() && again->capabilities == request->capabilities &&
            again->max_packet_size == request->max_packet_size && again->charset == request->charset);
      break;
    }
    case 2: {
      auto response = decode_handshake_response(payload);
      if (!response) return 0;
      (void)is_ssl_request(payload);
      // Encoding needs the auth response to fit its form.
      if (!(response->capabilities & 0x00200000) && response->auth_response.size() > 255) return 0;
      if (!(response->capabilities & 0x00208000)) return 0;  // NUL-terminated forms may not round-trip
      auto again = decode_handshake_response(encode_handshake_response(*response));
      check(again.ok());
      check(again->user == response->user && again->auth_response == response->auth_response);
      check(again->connect_attributes == response->connect_attributes);
      break;
    }
    case 3: {
      auto request = decode_auth_switch_request(payload);
      if (!request) return 0;
      auto again = decode_auth_switch_request(encode_auth_switch_request(*request));
      check(again.ok() && again->plugin_name == request->plugin_name &&
            again->plugin_data == request->plugin_data);
      check(nonce_from_plugin_data(request->plugin_data).size() <= kNonceSize);
      break;
    }
    default: {
      auto more = decode_auth_more_data(payload);
      if (more) check(more->size() + 1 == payload.size());
      break;
    }
  }
  return 0;
}
