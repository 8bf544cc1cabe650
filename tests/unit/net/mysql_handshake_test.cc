// Connection-phase packets: round trips of every field, the optional parts a HandshakeResponse41
// may leave out, and truncation at every byte.
#include "net/mysql_handshake.h"

#include <gtest/gtest.h>

#include "common/byte_writer.h"
#include "net/mysql_constants.h"

namespace brelay::net {
namespace {

HandshakeV10 sample_greeting() {
  HandshakeV10 h;
  h.server_version = "8.0.36-log";
  h.connection_id = 0x01020304;
  for (std::uint8_t i = 0; i < kNonceSize; ++i)
    h.nonce.push_back(static_cast<std::uint8_t>(0x30 + i));
  h.capabilities = capability::kProtocol41 | capability::kSecureConnection | capability::kPluginAuth |
                   capability::kSsl | capability::kDeprecateEof | capability::kConnectAttrs;
  h.charset = 45;
  h.status_flags = server_status::kAutocommit;
  h.auth_plugin_name = kCachingSha2Plugin;
  return h;
}

void expect_same(const HandshakeV10& a, const HandshakeV10& b) {
  EXPECT_EQ(a.server_version, b.server_version);
  EXPECT_EQ(a.connection_id, b.connection_id);
  EXPECT_EQ(a.nonce, b.nonce);
  EXPECT_EQ(a.capabilities, b.capabilities);
  EXPECT_EQ(a.charset, b.charset);
  EXPECT_EQ(a.status_flags, b.status_flags);
  EXPECT_EQ(a.auth_plugin_name, b.auth_plugin_name);
}

TEST(HandshakeV10, RoundTripsAndHasTheDocumentedLayout) {
  const HandshakeV10 greeting = sample_greeting();
  const Bytes wire = encode_handshake_v10(greeting);
  EXPECT_EQ(wire[0], 0x0a);
  // version NUL, connection id, 8 nonce bytes, filler 0
  const std::size_t after_version = 1 + greeting.server_version.size() + 1;
  EXPECT_EQ(wire[after_version], 0x04);
  EXPECT_EQ(wire[after_version + 4 + 8], 0x00);
  // auth-plugin-data length byte = 21
  EXPECT_EQ(wire[after_version + 4 + 8 + 1 + 2 + 1 + 2 + 2], 21);
  auto decoded = decode_handshake_v10(wire);
  ASSERT_TRUE(decoded) << decoded.error().message();
  expect_same(*decoded, greeting);
}

TEST(HandshakeV10, TruncationIsAnErrorOrAShorterValidGreeting) {
  const HandshakeV10 greeting = sample_greeting();
  const Bytes wire = encode_handshake_v10(greeting);
  // The last byte is the plugin name's NUL, which some servers leave out: that cut is accepted as is.
  for (std::size_t cut = 0; cut + 1 < wire.size(); ++cut) {
    auto decoded = decode_handshake_v10(ByteView(wire).first(cut));
    if (decoded) {
      // Only a pre-4.1 greeting may end early (right after the low capability bits).
      EXPECT_TRUE(decoded->auth_plugin_name.empty() ||
                  decoded->auth_plugin_name != greeting.auth_plugin_name || decoded->nonce != greeting.nonce)
          << "cut at " << cut;
    }
  }
}

TEST(HandshakeV10, ARefusalIsRecognised) {
  auto decoded = decode_handshake_v10(Bytes{0xff, 0x10, 0x04, '#', '0', '8', '0', '0', '4', 'x'});
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message().find("ERR"), std::string::npos);
}

TEST(SslRequest, RoundTripsAndIsExactly32Bytes) {
  const Bytes wire = encode_ssl_request({capability::kProtocol41, 16777216, 45});
  ASSERT_EQ(wire.size(), kSslRequestSize);
  EXPECT_TRUE(is_ssl_request(wire));
  auto decoded = decode_ssl_request(wire);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->capabilities, capability::kProtocol41 | capability::kSsl);
  EXPECT_EQ(decoded->max_packet_size, 16777216u);
  EXPECT_EQ(decoded->charset, 45);
  for (std::size_t cut = 0; cut < wire.size(); ++cut)
    EXPECT_FALSE(decode_ssl_request(ByteView(wire).first(cut))) << cut;
}

HandshakeResponse sample_response(std::uint32_t extra_capabilities) {
  HandshakeResponse r;
  r.capabilities = capability::kProtocol41 | capability::kSecureConnection | capability::kPluginAuth |
                   capability::kConnectAttrs | capability::kConnectWithDb | extra_capabilities;
  r.max_packet_size = 1 << 24;
  r.charset = 33;
  r.user = "repl";
  r.auth_response = Bytes(32, 0xab);
  r.database = "shop";
  r.auth_plugin_name = kCachingSha2Plugin;
  r.connect_attributes = {
      {"_client_name", "libmysql"}, {"program_name", "mysqld"}, {"_client_role", "binary_log_listener"}};
  return r;
}

TEST(HandshakeResponse, RoundTripsWithEitherAuthResponseForm) {
  for (std::uint32_t extra : {0u, capability::kPluginAuthLenencClientData}) {
    const HandshakeResponse response = sample_response(extra);
    auto decoded = decode_handshake_response(encode_handshake_response(response));
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(decoded->capabilities, response.capabilities);
    EXPECT_EQ(decoded->max_packet_size, response.max_packet_size);
    EXPECT_EQ(decoded->charset, response.charset);
    EXPECT_EQ(decoded->user, response.user);
    EXPECT_EQ(decoded->auth_response, response.auth_response);
    EXPECT_EQ(decoded->database, response.database);
    EXPECT_EQ(decoded->auth_plugin_name, response.auth_plugin_name);
    EXPECT_EQ(decoded->connect_attributes, response.connect_attributes);
  }
}

TEST(HandshakeResponse, OptionalTailsMayBeMissing) {
  // A client that sets CONNECT_WITH_DB and PLUGIN_AUTH but stops after the auth response.
  ByteWriter w;
  w.u32(capability::kProtocol41 | capability::kSecureConnection | capability::kConnectWithDb |
        capability::kPluginAuth);
  w.u32(0).u8(8).zeros(23).nul_text("u").u8(0);
  auto decoded = decode_handshake_response(w.data());
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->user, "u");
  EXPECT_FALSE(decoded->database.has_value());
  EXPECT_EQ(decoded->auth_plugin_name, "");
}

TEST(HandshakeResponse, TruncationInsideAFieldIsAnError) {
  const HandshakeResponse response = sample_response(capability::kPluginAuthLenencClientData);
  const Bytes wire = encode_handshake_response(response);
  // Everything up to the end of the auth response is mandatory.
  const std::size_t mandatory = 4 + 4 + 1 + 23 + response.user.size() + 1 + 1 + response.auth_response.size();
  for (std::size_t cut = 0; cut < mandatory; ++cut)
    EXPECT_FALSE(decode_handshake_response(ByteView(wire).first(cut))) << cut;
  // Later cuts either fail or lose the fields after the cut (database, plugin, attributes are optional).
  for (std::size_t cut = mandatory; cut < wire.size(); ++cut) {
    auto decoded = decode_handshake_response(ByteView(wire).first(cut));
    if (decoded) {
      EXPECT_TRUE(decoded->connect_attributes.empty()) << cut;
    }
  }
}

TEST(HandshakeResponse, RefusesPre41ClientsAndLyingLengths) {
  ByteWriter old;
  old.u16(0x0001).u24(0).nul_text("u");
  EXPECT_FALSE(decode_handshake_response(old.data()));
  HandshakeResponse response = sample_response(capability::kPluginAuthLenencClientData);
  Bytes wire = encode_handshake_response(response);
  // Make the auth response length claim more than remains.
  const std::size_t length_at = 4 + 4 + 1 + 23 + response.user.size() + 1;
  wire[length_at] = 0xfa;
  EXPECT_FALSE(decode_handshake_response(wire));
}

TEST(AuthSwitchRequest, RoundTripsAndRejectsTheOldForm) {
  Bytes nonce(kNonceSize, 0x41);
  nonce.push_back(0);
  const Bytes wire = encode_auth_switch_request({kNativePasswordPlugin, nonce});
  EXPECT_EQ(wire[0], 0xfe);
  auto decoded = decode_auth_switch_request(wire);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->plugin_name, kNativePasswordPlugin);
  EXPECT_EQ(decoded->plugin_data, nonce);
  EXPECT_EQ(nonce_from_plugin_data(decoded->plugin_data).size(), kNonceSize);
  EXPECT_FALSE(decode_auth_switch_request(Bytes{0xfe}));
  EXPECT_FALSE(decode_auth_switch_request(Bytes{0xfe, 'a', 'b'}));
  EXPECT_FALSE(decode_auth_switch_request(Bytes{0x01, 0x03}));
}

TEST(AuthMoreData, RoundTrips) {
  const Bytes wire = encode_auth_more_data(Bytes{0x04});
  EXPECT_EQ(wire, (Bytes{0x01, 0x04}));
  auto decoded = decode_auth_more_data(wire);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(Bytes(decoded->begin(), decoded->end()), Bytes{0x04});
  EXPECT_FALSE(decode_auth_more_data(Bytes{0xfe, 0x04}));
  EXPECT_FALSE(decode_auth_more_data(Bytes{}));
}

}  // namespace
}  // namespace brelay::net
