// TlsSession pairs talking through memory (no sockets): the handshake in both roles, data both
// ways in many sizes, and the verification modes with the errors they report.
#include "net/tls_session.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace brelay::net {
namespace {

class TlsSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tls = testing::TlsTestDir::create("net-tls");
    ASSERT_TRUE(tls) << tls.error().message();
    tls_ = std::move(*tls);
  }
  static void TearDownTestSuite() { tls_.reset(); }

  // Moves bytes between the two sessions until neither has output; returns the first error.
  static Status pump(TlsSession& client, TlsSession& server, Bytes& client_plain, Bytes& server_plain) {
    for (int round = 0; round < 20; ++round) {
      Bytes to_server(client.output().begin(), client.output().end());
      client.consume_output();
      Bytes to_client(server.output().begin(), server.output().end());
      server.consume_output();
      if (to_server.empty() && to_client.empty()) return {};
      if (!to_server.empty()) BRELAY_TRY(server.receive(to_server, server_plain));
      if (!to_client.empty()) BRELAY_TRY(client.receive(to_client, client_plain));
    }
    return make_error("the sessions kept talking");
  }

  Result<std::pair<std::unique_ptr<TlsSession>, std::unique_ptr<TlsSession>>> connect(TlsMode mode,
                                                                                      std::string ca,
                                                                                      std::string host,
                                                                                      Status& outcome) {
    BRELAY_ASSIGN_OR_RETURN(auto server_context,
                            TlsContext::server(tls_->certs().server_cert, tls_->certs().server_key));
    BRELAY_ASSIGN_OR_RETURN(auto client_context, TlsContext::client(mode, ca));
    BRELAY_ASSIGN_OR_RETURN(auto server, TlsSession::server(server_context));
    BRELAY_ASSIGN_OR_RETURN(auto client, TlsSession::client(client_context, host));
    BRELAY_TRY(client->start());
    Bytes ignored_client, ignored_server;
    outcome = pump(*client, *server, ignored_client, ignored_server);
    return std::make_pair(std::move(client), std::move(server));
  }

  static inline std::unique_ptr<testing::TlsTestDir> tls_;
};

TEST_F(TlsSessionTest, HandshakeAndDataBothWays) {
  Status outcome;
  auto pair = connect(TlsMode::kVerifyIdentity, tls_->certs().ca_cert, "localhost", outcome);
  ASSERT_TRUE(pair) << pair.error().message();
  ASSERT_TRUE(outcome) << outcome.error().message();
  auto& [client, server] = *pair;
  EXPECT_TRUE(client->handshake_done());
  EXPECT_TRUE(server->handshake_done());
  EXPECT_TRUE(client->version() == "TLSv1.3" || client->version() == "TLSv1.2") << client->version();
  for (std::size_t size :
       {std::size_t{1}, std::size_t{100}, std::size_t{16384}, std::size_t{16385}, std::size_t{1 << 20}}) {
    Bytes data(size);
    for (std::size_t i = 0; i < size; ++i)
      data[i] = static_cast<std::uint8_t>(i * 7);
    ASSERT_TRUE(client->send(data));
    ASSERT_TRUE(server->send(data));
    Bytes client_plain, server_plain;
    ASSERT_TRUE(pump(*client, *server, client_plain, server_plain));
    EXPECT_EQ(server_plain, data) << size;
    EXPECT_EQ(client_plain, data) << size;
  }
  server->shutdown();
  Bytes client_plain, server_plain;
  ASSERT_TRUE(pump(*client, *server, client_plain, server_plain));
  EXPECT_TRUE(client->peer_closed());
}

TEST_F(TlsSessionTest, VerifyIdentityAcceptsTheIpAddressInTheCertificate) {
  Status outcome;
  auto pair = connect(TlsMode::kVerifyIdentity, tls_->certs().ca_cert, "127.0.0.1", outcome);
  ASSERT_TRUE(pair) << pair.error().message();
  EXPECT_TRUE(outcome) << outcome.error().message();
}

TEST_F(TlsSessionTest, WrongCaIsReportedAsSuch) {
  Status outcome;
  auto pair = connect(TlsMode::kVerifyCa, tls_->certs().other_ca_cert, "localhost", outcome);
  ASSERT_TRUE(pair) << pair.error().message();
  ASSERT_FALSE(outcome);
  EXPECT_NE(
      outcome.error().message().find("did not verify against the CA bundle " + tls_->certs().other_ca_cert),
      std::string::npos)
      << outcome.error().message();
}

TEST_F(TlsSessionTest, WrongHostNameIsReportedAsSuch) {
  for (const std::string host : {"db.example.test", "10.1.2.3"}) {
    Status outcome;
    auto pair = connect(TlsMode::kVerifyIdentity, tls_->certs().ca_cert, host, outcome);
    ASSERT_TRUE(pair) << pair.error().message();
    ASSERT_FALSE(outcome) << host;
    EXPECT_NE(outcome.error().message().find("does not match the host name '" + host + "'"),
              std::string::npos)
        << outcome.error().message();
  }
  // verify_ca does not look at the name.
  Status outcome;
  auto pair = connect(TlsMode::kVerifyCa, tls_->certs().ca_cert, "db.example.test", outcome);
  ASSERT_TRUE(pair);
  EXPECT_TRUE(outcome) << outcome.error().message();
}

TEST_F(TlsSessionTest, RequiredDoesNotCheckTheCertificate) {
  Status outcome;
  auto pair = connect(TlsMode::kRequired, tls_->certs().other_ca_cert, "whatever", outcome);
  ASSERT_TRUE(pair);
  EXPECT_TRUE(outcome) << outcome.error().message();
}

TEST_F(TlsSessionTest, BadFilesAndGarbageAreErrors) {
  EXPECT_FALSE(TlsContext::server("/nonexistent.pem", tls_->certs().server_key));
  EXPECT_FALSE(
      TlsContext::server(tls_->certs().server_cert, tls_->certs().client_key));  // key of another certificate
  EXPECT_FALSE(TlsContext::client(TlsMode::kVerifyCa, "/nonexistent-ca.pem"));
  auto context = TlsContext::server(tls_->certs().server_cert, tls_->certs().server_key);
  ASSERT_TRUE(context);
  auto server = TlsSession::server(*context);
  ASSERT_TRUE(server);
  Bytes plain;
  EXPECT_FALSE((*server)->receive(to_bytes("GET / HTTP/1.1\r\n\r\n"), plain));
}

// A handshake between a server with `policy` and a client limited to `max_version` and the TLS
// 1.2 `client_ciphers`; the negotiated cipher, or the error.
Result<std::string> negotiate(const testing::TestCertificates& certs, const TlsServerPolicy& policy,
                              int max_version, const char* client_ciphers) {
  BRELAY_ASSIGN_OR_RETURN(auto server_context,
                          TlsContext::server(certs.server_cert, certs.server_key, policy));
  BRELAY_ASSIGN_OR_RETURN(auto client_context, TlsContext::client(TlsMode::kRequired));
  SSL_CTX_set_max_proto_version(client_context->raw(), max_version);
  SSL_CTX_set_min_proto_version(client_context->raw(), TLS1_VERSION);
  if (SSL_CTX_set_cipher_list(client_context->raw(), client_ciphers) != 1)
    return make_error("client ciphers");
  BRELAY_ASSIGN_OR_RETURN(auto server, TlsSession::server(server_context));
  BRELAY_ASSIGN_OR_RETURN(auto client, TlsSession::client(client_context, "localhost"));
  BRELAY_TRY(client->start());
  for (int round = 0; round < 20; ++round) {
    Bytes to_server(client->output().begin(), client->output().end());
    client->consume_output();
    Bytes to_client(server->output().begin(), server->output().end());
    server->consume_output();
    if (to_server.empty() && to_client.empty()) break;
    Bytes plain;
    if (!to_server.empty()) BRELAY_TRY(server->receive(to_server, plain));
    if (!to_client.empty()) BRELAY_TRY(client->receive(to_client, plain));
  }
  if (!client->handshake_done()) return make_error("no handshake");
  return client->version() + " " + client->cipher();
}

TEST_F(TlsSessionTest, ServersOfferForwardSecretCiphersOnlyByDefault) {
  const testing::TestCertificates& certs = tls_->certs();
  // Static RSA key exchange (no forward secrecy) and CBC suites are refused.
  EXPECT_FALSE(negotiate(certs, {}, TLS1_2_VERSION, "AES128-SHA"));
  EXPECT_FALSE(negotiate(certs, {}, TLS1_2_VERSION, "AES256-GCM-SHA384"));
  EXPECT_FALSE(negotiate(certs, {}, TLS1_2_VERSION, "ECDHE-RSA-AES128-SHA"));
  // TLS 1.1 and 1.0 are refused.
  EXPECT_FALSE(negotiate(certs, {}, TLS1_1_VERSION, "DEFAULT@SECLEVEL=0"));
  auto ecdhe = negotiate(certs, {}, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256");
  ASSERT_TRUE(ecdhe) << ecdhe.error().message();
  EXPECT_EQ(*ecdhe, "TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256");
  auto dhe = negotiate(certs, {}, TLS1_2_VERSION, "DHE-RSA-AES256-GCM-SHA384");
  ASSERT_TRUE(dhe) << dhe.error().message();
  EXPECT_EQ(*dhe, "TLSv1.2 DHE-RSA-AES256-GCM-SHA384");
  auto tls13 = negotiate(certs, {}, TLS1_3_VERSION, "DEFAULT");
  ASSERT_TRUE(tls13) << tls13.error().message();
  EXPECT_EQ(tls13->rfind("TLSv1.3 ", 0), 0u) << *tls13;
}

TEST_F(TlsSessionTest, TheServerPolicyIsHonoured) {
  const testing::TestCertificates& certs = tls_->certs();
  const TlsServerPolicy chacha{TlsVersion::kTls12, "ECDHE+CHACHA20"};
  EXPECT_FALSE(negotiate(certs, chacha, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256"));
  EXPECT_TRUE(negotiate(certs, chacha, TLS1_2_VERSION, "ECDHE-RSA-CHACHA20-POLY1305"));
  const TlsServerPolicy tls13_only{TlsVersion::kTls13, std::string(kDefaultTlsCiphers)};
  EXPECT_FALSE(negotiate(certs, tls13_only, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256"));
  EXPECT_TRUE(negotiate(certs, tls13_only, TLS1_3_VERSION, "DEFAULT"));
  // The refusals above come from the policy: a server configured for it accepts static RSA.
  EXPECT_TRUE(negotiate(certs, {TlsVersion::kTls12, "AES128-SHA"}, TLS1_2_VERSION, "AES128-SHA"));
  EXPECT_FALSE(TlsContext::server(certs.server_cert, certs.server_key, {TlsVersion::kTls12, "NO-SUCH"}));
}

TEST(TlsPolicy, VersionsAndCipherLists) {
  EXPECT_EQ(parse_tls_version("TLSv1.2").value_or(TlsVersion::kTls13), TlsVersion::kTls12);
  EXPECT_EQ(parse_tls_version("tlsv1.3").value_or(TlsVersion::kTls12), TlsVersion::kTls13);
  EXPECT_EQ(parse_tls_version("1.3").value_or(TlsVersion::kTls12), TlsVersion::kTls13);
  for (const char* old : {"TLSv1.1", "TLSv1", "SSLv3"}) {
    auto refused = parse_tls_version(old);
    ASSERT_FALSE(refused) << old;
    EXPECT_NE(refused.error().message().find("too old"), std::string::npos) << refused.error().message();
  }
  EXPECT_FALSE(parse_tls_version("TLSv2"));
  EXPECT_EQ(tls_version_name(TlsVersion::kTls13), "TLSv1.3");
  EXPECT_TRUE(check_tls_ciphers(std::string(kDefaultTlsCiphers)));
  EXPECT_TRUE(check_tls_ciphers("ECDHE+AESGCM"));
  EXPECT_FALSE(check_tls_ciphers("NO-SUCH-CIPHER"));
  EXPECT_FALSE(check_tls_ciphers(""));
}

TEST(TlsMode, ParsesTheConfigurationNames) {
  for (TlsMode mode : {TlsMode::kDisabled, TlsMode::kPreferred, TlsMode::kRequired, TlsMode::kVerifyCa,
                       TlsMode::kVerifyIdentity}) {
    auto parsed = parse_tls_mode(tls_mode_name(mode));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, mode);
  }
  EXPECT_FALSE(parse_tls_mode("VERIFY_CA"));
}

}  // namespace
}  // namespace brelay::net
