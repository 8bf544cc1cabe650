// The real `mariadb` command-line client (MariaDB Connector/C) logs in to a server built on net/:
// mysql_native_password and caching_sha2_password, without TLS and with TLS verifying the server's
// certificate against the test CA, and gets the rows of a query back. A wrong password and an
// unknown user both get "ERROR 1045 (28000): Access denied for user ...".
#include <gtest/gtest.h>

#include "net/mysql_server.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/threaded_mysql_server.h"

namespace brelay::testing {
namespace {

// Connector/C loads caching_sha2_password from here (Debian's libmariadb3).
constexpr const char* kClientPluginDir = "/usr/lib/x86_64-linux-gnu/libmariadb3/plugin";

class MariaDbClientLoginTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tls = testing::TlsTestDir::create("net-mariadb-cli");
    ASSERT_TRUE(tls) << tls.error().message();
    tls_ = std::move(*tls);
    auto keys = net::RsaKeyPair::generate();
    ASSERT_TRUE(keys) << keys.error().message();
    rsa_keys_ = *keys;
  }
  static void TearDownTestSuite() {
    tls_.reset();
    rsa_keys_.reset();
  }

  void start(std::string greeting_plugin) {
    auto store = std::make_shared<net::StaticAccountStore>();
    store->add("repl", net::Account::from_password("repl-pass", "replica"));
    net::Account sha2_only = net::Account::from_password("sha2-pass", "replica");
    sha2_only.native_hash.reset();
    store->add("sha2user", sha2_only);
    net::Account native_only = net::Account::from_password("native-pass", "replica");
    native_only.sha2_hash.reset();
    store->add("nativeuser", native_only);
    net::ServerSettings settings;
    settings.accounts = store;
    settings.rsa_keys = rsa_keys_;
    settings.greeting_auth_plugin = std::move(greeting_plugin);
    auto tls = net::TlsContext::server(tls_->certs().server_cert, tls_->certs().server_key);
    ASSERT_TRUE(tls) << tls.error().message();
    settings.tls = *tls;
    log_ = std::make_shared<RecordingHandler::Log>();
    auto server = ThreadedMySqlServer::start(std::move(settings), RecordingHandler::factory(log_));
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
  }

  // Runs the real client against the test server with a query; returns its exit status and output.
  CommandOutput mariadb(const std::string& user, const std::string& password, std::vector<std::string> extra,
                        const std::string& sql = "SELECT who", std::uint16_t port = 0) {
    std::vector<std::string> argv = {"mariadb",
                                     "--no-defaults",
                                     "--protocol=TCP",
                                     "--host=127.0.0.1",
                                     "--port=" + std::to_string(port != 0 ? port : server_->port()),
                                     "--user=" + user,
                                     "--password=" + password,
                                     "--plugin-dir=" + std::string(kClientPluginDir),
                                     "--batch",
                                     "--skip-column-names",
                                     "--connect-timeout=10"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("-e");
    argv.push_back(sql);
    auto output = run_command(argv, {}, std::chrono::seconds(60));
    EXPECT_TRUE(output) << output.error().message();
    return output ? *output : CommandOutput{};
  }

  std::vector<std::string> tls_verified() const {
    return {"--ssl", "--ssl-ca=" + tls_->certs().ca_cert, "--ssl-verify-server-cert"};
  }

  static inline std::unique_ptr<testing::TlsTestDir> tls_;
  static inline std::shared_ptr<const net::RsaKeyPair> rsa_keys_;
  std::shared_ptr<RecordingHandler::Log> log_;
  std::unique_ptr<ThreadedMySqlServer> server_;
};

// Columns of RecordingHandler's row.
constexpr int kQuery = 0, kUser = 1, kRole = 2, kTls = 3, kPlugin = 4, kAttributes = 7, kNothing = 8;

void expect_row(const CommandOutput& output, const std::string& user, const std::string& tls,
                const std::string& plugin) {
  ASSERT_EQ(output.exit_status, 0) << output.err;
  Rows rows = parse_batch_output(output.out);
  ASSERT_EQ(rows.size(), 1u) << output.out;
  ASSERT_EQ(rows[0].size(), 9u) << output.out;
  EXPECT_EQ(rows[0][kQuery], "SELECT who");
  EXPECT_EQ(rows[0][kUser], user);
  EXPECT_EQ(rows[0][kRole], "replica");
  EXPECT_EQ(rows[0][kTls], tls);
  EXPECT_EQ(rows[0][kPlugin], plugin);
  EXPECT_NE(rows[0][kAttributes].find("_client_name=libmariadb"), std::string::npos) << rows[0][kAttributes];
  EXPECT_EQ(rows[0][kNothing], "NULL");
}

TEST_F(MariaDbClientLoginTest, NativePasswordWithoutTls) {
  start(net::kNativePasswordPlugin);
  expect_row(mariadb("repl", "repl-pass", {"--ssl=0"}), "repl", "NO",
             "mysql_native_password/native scramble");
}

TEST_F(MariaDbClientLoginTest, NativePasswordWithTlsVerifyingTheServerCertificate) {
  start(net::kNativePasswordPlugin);
  expect_row(mariadb("repl", "repl-pass", tls_verified()), "repl", "YES",
             "mysql_native_password/native scramble");
}

TEST_F(MariaDbClientLoginTest, CachingSha2WithoutTls) {
  start(net::kCachingSha2Plugin);
  // Connector/C starts with mysql_native_password; an account with only a SHA256 hash switches it
  // to caching_sha2_password, checked by the fast path.
  expect_row(mariadb("sha2user", "sha2-pass", {"--ssl=0"}), "sha2user", "NO",
             "caching_sha2_password/sha2 fast path");
  expect_row(mariadb("repl", "repl-pass", {"--ssl=0", "--default-auth=caching_sha2_password"}), "repl", "NO",
             "caching_sha2_password/sha2 fast path");
}

// Issue 14 item 1: an account with only a native hash, on a server greeting with
// caching_sha2_password, was asked for full authentication on a plain connection, and Connector/C
// then sent the password in clear. The server switches it to mysql_native_password as mysqld does;
// a capturing proxy between client and server sees the password nowhere on the wire.
TEST_F(MariaDbClientLoginTest, NativeOnlyAccountSendsNoClearTextPasswordWithoutTls) {
  start(net::kCachingSha2Plugin);
  auto proxy = FaultProxy::start("127.0.0.1", server_->port(), {});
  ASSERT_TRUE(proxy) << proxy.error().message();
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--ssl=0", "--default-auth=caching_sha2_password"},
        std::vector<std::string>{"--ssl=0"}}) {
    expect_row(mariadb("nativeuser", "native-pass", extra, "SELECT who", (*proxy)->port()), "nativeuser",
               "NO", "mysql_native_password/native scramble");
  }
  const std::string wire = (*proxy)->client_to_server_bytes();
  EXPECT_NE(wire.find("nativeuser"), std::string::npos) << "the proxy saw no login";
  EXPECT_EQ(wire.find("native-pass"), std::string::npos) << "the password went over the wire in clear";
}

// Regression: Connector/C configured for caching_sha2_password, greeted with mysql_native_password,
// answers with an empty scramble; the server must switch it to its own plugin, not deny it.
TEST_F(MariaDbClientLoginTest, CachingSha2ClientGreetedWithNativePasswordIsSwitched) {
  start(net::kNativePasswordPlugin);
  expect_row(mariadb("repl", "repl-pass", {"--ssl=0", "--default-auth=caching_sha2_password"}), "repl", "NO",
             "caching_sha2_password/sha2 fast path");
  expect_row(mariadb("sha2user", "sha2-pass", {"--ssl=0", "--default-auth=caching_sha2_password"}),
             "sha2user", "NO", "caching_sha2_password/sha2 fast path");
  auto args = tls_verified();
  args.push_back("--default-auth=caching_sha2_password");
  expect_row(mariadb("nativeuser", "native-pass", args), "nativeuser", "YES",
             "caching_sha2_password/sha2 full authentication over TLS");
}

TEST_F(MariaDbClientLoginTest, CachingSha2WithTlsVerifyingTheServerCertificate) {
  start(net::kCachingSha2Plugin);
  auto args = tls_verified();
  args.push_back("--default-auth=caching_sha2_password");
  expect_row(mariadb("sha2user", "sha2-pass", args), "sha2user", "YES",
             "caching_sha2_password/sha2 fast path");
  // Full authentication over TLS: the client sends the password itself.
  expect_row(mariadb("nativeuser", "native-pass", args), "nativeuser", "YES",
             "caching_sha2_password/sha2 full authentication over TLS");
  // Switched from mysql_native_password over TLS.
  expect_row(mariadb("sha2user", "sha2-pass", tls_verified()), "sha2user", "YES",
             "caching_sha2_password/sha2 fast path");
}

TEST_F(MariaDbClientLoginTest, WrongPasswordAndUnknownUserAreDenied) {
  start(net::kNativePasswordPlugin);
  for (const auto& [user, password, extra] :
       std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>{
           {"repl", "wrong", {"--ssl=0"}},
           {"nobody", "repl-pass", {"--ssl=0"}},
           {"sha2user", "wrong", tls_verified()},
           {"nobody", "x", tls_verified()}}) {
    CommandOutput output = mariadb(user, password, extra);
    EXPECT_NE(output.exit_status, 0);
    EXPECT_NE(
        output.err.find(fmt::format("ERROR 1045 (28000): Access denied for user '{}'@'127.0.0.1'", user)),
        std::string::npos)
        << output.err;
  }
}

TEST_F(MariaDbClientLoginTest, WrongCaIsRefusedByTheClient) {
  start(net::kNativePasswordPlugin);
  CommandOutput output = mariadb(
      "repl", "repl-pass", {"--ssl", "--ssl-ca=" + tls_->certs().other_ca_cert, "--ssl-verify-server-cert"});
  EXPECT_NE(output.exit_status, 0) << output.out;
}

TEST_F(MariaDbClientLoginTest, ErrorsAndStatementsReachTheClient) {
  start(net::kNativePasswordPlugin);
  CommandOutput failed = mariadb("repl", "repl-pass", {"--ssl=0"}, "FAIL please");
  EXPECT_NE(failed.exit_status, 0);
  EXPECT_NE(failed.err.find("ERROR 1064 (42000)"), std::string::npos) << failed.err;
  CommandOutput set = mariadb("repl", "repl-pass", {"--ssl=0"}, "SET @a = 1");
  EXPECT_EQ(set.exit_status, 0) << set.err;
  CommandOutput db = mariadb("repl", "repl-pass", {"--ssl=0", "--database=shop"}, "SELECT who");
  ASSERT_EQ(db.exit_status, 0) << db.err;
  EXPECT_EQ(parse_batch_output(db.out)[0][5], "shop");
}

}  // namespace
}  // namespace brelay::testing
