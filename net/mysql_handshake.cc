#include "net/mysql_handshake.h"

#include <algorithm>

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "net/mysql_constants.h"

namespace brelay::net {
namespace {

constexpr std::uint8_t kProtocolVersion10 = 0x0a;
constexpr std::uint8_t kAuthSwitchHeader = 0xfe;
constexpr std::uint8_t kAuthMoreDataHeader = 0x01;

// A NUL-terminated string that may also end at the end of the packet (some servers and clients
// omit the final NUL of the plugin name).
std::string_view nul_or_rest_text(ByteReader& reader) {
  auto text = reader.nul_text("plugin name");
  if (text) return *text;
  return reader.rest_text();
}

}  // namespace

Bytes encode_handshake_v10(const HandshakeV10& handshake) {
  Bytes nonce = handshake.nonce;
  nonce.resize(std::max<std::size_t>(nonce.size(), 8), 0);
  ByteWriter w;
  w.u8(kProtocolVersion10);
  w.nul_text(handshake.server_version);
  w.u32(handshake.connection_id);
  w.bytes(ByteView(nonce).first(8));
  w.u8(0);
  w.u16(static_cast<std::uint16_t>(handshake.capabilities));
  w.u8(handshake.charset);
  w.u16(handshake.status_flags);
  w.u16(static_cast<std::uint16_t>(handshake.capabilities >> 16));
  const bool plugin_auth = (handshake.capabilities & capability::kPluginAuth) != 0;
  w.u8(plugin_auth ? static_cast<std::uint8_t>(nonce.size() + 1) : 0);
  w.zeros(10);
  if (handshake.capabilities & capability::kSecureConnection) {
    // Part 2 is max(13, length - 8) bytes: the rest of the nonce, then a NUL.
    ByteView rest = ByteView(nonce).subspan(8);
    w.bytes(rest);
    w.zeros(rest.size() + 1 < 13 ? 13 - rest.size() : 1);
  }
  if (plugin_auth) w.nul_text(handshake.auth_plugin_name);
  return std::move(w).take();
}

Result<HandshakeV10> decode_handshake_v10(ByteView payload) {
  ByteReader r(payload);
  HandshakeV10 h;
  BRELAY_ASSIGN_OR_RETURN(auto protocol, r.u8("protocol version"));
  if (protocol != kProtocolVersion10) {
    if (protocol == 0xff) return make_error("the server refused the connection with an ERR packet");
    return make_error("unsupported protocol version {} in the server greeting (expected 10)", protocol);
  }
  BRELAY_ASSIGN_OR_RETURN(auto version, r.nul_text("server version"));
  h.server_version = std::string(version);
  BRELAY_ASSIGN_OR_RETURN(h.connection_id, r.u32("connection id"));
  BRELAY_ASSIGN_OR_RETURN(auto part1, r.bytes(8, "auth plugin data part 1"));
  h.nonce.assign(part1.begin(), part1.end());
  BRELAY_TRY(r.skip(1, "filler"));
  BRELAY_ASSIGN_OR_RETURN(auto caps_low, r.u16("capability flags"));
  h.capabilities = caps_low;
  if (r.at_end()) return h;  // a pre-4.1 greeting ends here
  BRELAY_ASSIGN_OR_RETURN(h.charset, r.u8("character set"));
  BRELAY_ASSIGN_OR_RETURN(h.status_flags, r.u16("status flags"));
  BRELAY_ASSIGN_OR_RETURN(auto caps_high, r.u16("capability flags (upper)"));
  h.capabilities |= std::uint32_t{caps_high} << 16;
  BRELAY_ASSIGN_OR_RETURN(auto auth_data_length, r.u8("auth plugin data length"));
  BRELAY_TRY(r.skip(10, "reserved"));
  if (h.capabilities & capability::kSecureConnection) {
    const std::size_t part2_length =
        std::max<std::size_t>(13, auth_data_length > 8 ? auth_data_length - 8 : 0);
    BRELAY_ASSIGN_OR_RETURN(auto part2, r.bytes(part2_length, "auth plugin data part 2"));
    h.nonce.insert(h.nonce.end(), part2.begin(), part2.end());
    if (h.nonce.back() == 0) h.nonce.pop_back();
  }
  if (h.capabilities & capability::kPluginAuth) h.auth_plugin_name = std::string(nul_or_rest_text(r));
  return h;
}

Bytes encode_ssl_request(const SslRequest& request) {
  ByteWriter w;
  w.u32(request.capabilities | capability::kSsl);
  w.u32(request.max_packet_size);
  w.u8(request.charset);
  w.zeros(23);
  return std::move(w).take();
}

bool is_ssl_request(ByteView payload) {
  ByteReader r(payload);
  auto caps = r.u32("capability flags");
  return caps && (*caps & capability::kSsl) != 0;
}

Result<SslRequest> decode_ssl_request(ByteView payload) {
  if (payload.size() != kSslRequestSize)
    return make_error("SSLRequest of {} bytes, expected {}", payload.size(), kSslRequestSize);
  ByteReader r(payload);
  SslRequest s;
  BRELAY_ASSIGN_OR_RETURN(s.capabilities, r.u32("capability flags"));
  BRELAY_ASSIGN_OR_RETURN(s.max_packet_size, r.u32("max packet size"));
  BRELAY_ASSIGN_OR_RETURN(s.charset, r.u8("character set"));
  if (!(s.capabilities & capability::kSsl)) return make_error("SSLRequest without the CLIENT_SSL capability");
  return s;
}

Bytes encode_handshake_response(const HandshakeResponse& response) {
  const std::uint32_t caps = response.capabilities;
  ByteWriter w;
  w.u32(caps);
  w.u32(response.max_packet_size);
  w.u8(response.charset);
  w.zeros(23);
  w.nul_text(response.user);
  if (caps & capability::kPluginAuthLenencClientData) {
    w.lenenc(response.auth_response.size()).bytes(response.auth_response);
  } else if (caps & capability::kSecureConnection) {
    w.u8(static_cast<std::uint8_t>(std::min<std::size_t>(response.auth_response.size(), 255)));
    w.bytes(
        ByteView(response.auth_response).first(std::min<std::size_t>(response.auth_response.size(), 255)));
  } else {
    w.bytes(response.auth_response).u8(0);
  }
  if (caps & capability::kConnectWithDb) w.nul_text(response.database.value_or(""));
  if (caps & capability::kPluginAuth) w.nul_text(response.auth_plugin_name);
  if (caps & capability::kConnectAttrs) {
    ByteWriter attributes;
    for (const auto& [key, value] : response.connect_attributes)
      attributes.lenenc_text(key).lenenc_text(value);
    w.lenenc(attributes.size()).bytes(attributes.data());
  }
  return std::move(w).take();
}

Result<HandshakeResponse> decode_handshake_response(ByteView payload) {
  ByteReader r(payload);
  HandshakeResponse h;
  BRELAY_ASSIGN_OR_RETURN(h.capabilities, r.u32("capability flags"));
  if (!(h.capabilities & capability::kProtocol41))
    return make_error(
        "the client does not speak protocol 4.1 (CLIENT_PROTOCOL_41 is not set); upgrade the client");
  BRELAY_ASSIGN_OR_RETURN(h.max_packet_size, r.u32("max packet size"));
  BRELAY_ASSIGN_OR_RETURN(h.charset, r.u8("character set"));
  BRELAY_TRY(r.skip(23, "filler"));
  BRELAY_ASSIGN_OR_RETURN(auto user, r.nul_text("user name"));
  h.user = std::string(user);
  if (h.capabilities & capability::kPluginAuthLenencClientData) {
    BRELAY_ASSIGN_OR_RETURN(auto length, r.lenenc("auth response length"));
    if (length > r.remaining())
      return make_error("truncated auth response: length {} but {} bytes remain", length, r.remaining());
    BRELAY_ASSIGN_OR_RETURN(auto data, r.bytes(static_cast<std::size_t>(length), "auth response"));
    h.auth_response.assign(data.begin(), data.end());
  } else if (h.capabilities & capability::kSecureConnection) {
    BRELAY_ASSIGN_OR_RETURN(auto length, r.u8("auth response length"));
    BRELAY_ASSIGN_OR_RETURN(auto data, r.bytes(length, "auth response"));
    h.auth_response.assign(data.begin(), data.end());
  } else {
    BRELAY_ASSIGN_OR_RETURN(auto data, r.nul_text("auth response"));
    h.auth_response = to_bytes(data);
  }
  if ((h.capabilities & capability::kConnectWithDb) && !r.at_end()) {
    BRELAY_ASSIGN_OR_RETURN(auto database, r.nul_text("database"));
    h.database = std::string(database);
  }
  if ((h.capabilities & capability::kPluginAuth) && !r.at_end())
    h.auth_plugin_name = std::string(nul_or_rest_text(r));
  if ((h.capabilities & capability::kConnectAttrs) && !r.at_end()) {
    BRELAY_ASSIGN_OR_RETURN(auto length, r.lenenc("connect attributes length"));
    if (length > r.remaining())
      return make_error("truncated connect attributes: length {} but {} bytes remain", length, r.remaining());
    BRELAY_ASSIGN_OR_RETURN(auto block, r.bytes(static_cast<std::size_t>(length), "connect attributes"));
    ByteReader attributes(block);
    while (!attributes.at_end()) {
      BRELAY_ASSIGN_OR_RETURN(auto key, attributes.lenenc_text("connect attribute name"));
      BRELAY_ASSIGN_OR_RETURN(auto value, attributes.lenenc_text("connect attribute value"));
      h.connect_attributes.emplace_back(std::string(key), std::string(value));
    }
  }
  return h;
}

Bytes encode_auth_switch_request(const AuthSwitchRequest& request) {
  ByteWriter w;
  w.u8(kAuthSwitchHeader).nul_text(request.plugin_name).bytes(request.plugin_data);
  return std::move(w).take();
}

Result<AuthSwitchRequest> decode_auth_switch_request(ByteView payload) {
  ByteReader r(payload);
  BRELAY_ASSIGN_OR_RETURN(auto header, r.u8("auth switch header"));
  if (header != kAuthSwitchHeader) return make_error("not an AuthSwitchRequest: first byte 0x{:02x}", header);
  if (r.at_end())
    return make_error("the server asked for the old pre-4.1 password authentication, which is not supported");
  AuthSwitchRequest s;
  BRELAY_ASSIGN_OR_RETURN(auto name, r.nul_text("auth switch plugin name"));
  s.plugin_name = std::string(name);
  ByteView data = r.rest();
  s.plugin_data.assign(data.begin(), data.end());
  return s;
}

Bytes encode_auth_more_data(ByteView data) {
  ByteWriter w;
  w.u8(kAuthMoreDataHeader).bytes(data);
  return std::move(w).take();
}

Result<ByteView> decode_auth_more_data(ByteView payload) {
  ByteReader r(payload);
  BRELAY_ASSIGN_OR_RETURN(auto header, r.u8("auth more data header"));
  if (header != kAuthMoreDataHeader)
    return make_error("not an AuthMoreData packet: first byte 0x{:02x}", header);
  return r.rest();
}

ByteView nonce_from_plugin_data(ByteView plugin_data) {
  if (!plugin_data.empty() && plugin_data.back() == 0)
    plugin_data = plugin_data.first(plugin_data.size() - 1);
  return plugin_data.first(std::min(plugin_data.size(), kNonceSize));
}

}  // namespace brelay::net
