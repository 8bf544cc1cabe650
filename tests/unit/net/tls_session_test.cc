// TlsSession pairs talking through memory (no sockets): the handshake in both roles, data both
// ways in many sizes, and the verification modes with the errors they report.
#include "net/tls_session.h"

#include <gtest/gtest.h>

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
