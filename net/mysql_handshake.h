// Connection-phase packets of the MySQL protocol, as plain structs with encode/decode functions:
// the server's greeting (HandshakeV10), the client's SSLRequest and HandshakeResponse41, and the
// server's AuthSwitchRequest and AuthMoreData. Decoders take a joined payload, check every field
// against what remains and return an error naming the field; they do no I/O.
// See ../shared/docs/protocol.md section 6 and MySQL's page_protocol_connection_phase_packets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::net {

inline constexpr std::size_t kNonceSize = 20;

// HandshakeV10, the first packet on every connection (sequence id 0).
struct HandshakeV10 {
  std::string server_version;
  std::uint32_t connection_id = 0;
  Bytes nonce;  // auth-plugin-data without the trailing NUL (20 bytes from current servers)
  std::uint32_t capabilities = 0;
  std::uint8_t charset = 0;
  std::uint16_t status_flags = 0;
  std::string auth_plugin_name;  // empty when the server does not set CLIENT_PLUGIN_AUTH
};

Bytes encode_handshake_v10(const HandshakeV10& handshake);
Result<HandshakeV10> decode_handshake_v10(ByteView payload);

// SSLRequest: the first 32 bytes of a HandshakeResponse41 with CLIENT_SSL set, sent before TLS.
struct SslRequest {
  std::uint32_t capabilities = 0;
  std::uint32_t max_packet_size = 0;
  std::uint8_t charset = 0;
};
inline constexpr std::size_t kSslRequestSize = 32;

Bytes encode_ssl_request(const SslRequest& request);
Result<SslRequest> decode_ssl_request(ByteView payload);
// True when a client's first packet asks for TLS (CLIENT_SSL in its capabilities).
bool is_ssl_request(ByteView payload);

using ConnectAttributes = std::vector<std::pair<std::string, std::string>>;

// HandshakeResponse41, the client's login packet.
struct HandshakeResponse {
  std::uint32_t capabilities = 0;
  std::uint32_t max_packet_size = 0;
  std::uint8_t charset = 0;
  std::string user;
  Bytes auth_response;
  std::optional<std::string> database;   // with CLIENT_CONNECT_WITH_DB
  std::string auth_plugin_name;          // with CLIENT_PLUGIN_AUTH; empty otherwise
  ConnectAttributes connect_attributes;  // with CLIENT_CONNECT_ATTRS
};

// Encodes according to `response.capabilities` (which decides the optional fields and the form of
// the auth response).
Bytes encode_handshake_response(const HandshakeResponse& response);
Result<HandshakeResponse> decode_handshake_response(ByteView payload);

// AuthSwitchRequest: 0xFE, plugin name NUL, plugin data (for both built-in plugins: the 20-byte
// nonce and a NUL).
struct AuthSwitchRequest {
  std::string plugin_name;
  Bytes plugin_data;
};

Bytes encode_auth_switch_request(const AuthSwitchRequest& request);
Result<AuthSwitchRequest> decode_auth_switch_request(ByteView payload);

// AuthMoreData: 0x01 then plugin-specific bytes (caching_sha2_password's 0x03 / 0x04 and its PEM
// public key).
Bytes encode_auth_more_data(ByteView data);
Result<ByteView> decode_auth_more_data(ByteView payload);

// The nonce a plugin exchange uses from plugin data: at most 20 bytes, a trailing NUL dropped.
ByteView nonce_from_plugin_data(ByteView plugin_data);

}  // namespace brelay::net
