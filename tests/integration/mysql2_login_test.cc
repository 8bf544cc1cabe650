// npm's mysql2 driver (a second, independent client implementation) logs in to a server built on
// net/ with caching_sha2_password: the fast path (with and without TLS), the full path over TLS,
// and the full path with the server's RSA key. tests/node/ holds the script and its locked
// dependencies; scripts/test installs them with `npm ci --prefix tests/node`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "net/mysql_server.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/threaded_mysql_server.h"

namespace brelay::testing {
namespace {

class Mysql2LoginTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tls = testing::TlsTestDir::create("net-mysql2");
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

  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(node_dir() + "/node_modules/mysql2"))
        << "mysql2 is not installed: run `npm ci --prefix tests/node` (scripts/test does)";
    auto store = std::make_shared<net::StaticAccountStore>();
    net::Account sha2 = net::Account::from_password("sha2-pass", "replica");
    store->add("sha2user", sha2);
    net::Account native_only = net::Account::from_password("native-pass", "replica");
    native_only.sha2_hash.reset();
    store->add("nativeuser", native_only);
    net::ServerSettings settings;
    settings.accounts = store;
    settings.rsa_keys = rsa_keys_;
    settings.greeting_auth_plugin = net::kCachingSha2Plugin;  // what a MySQL 8 server proposes
    auto tls = net::TlsContext::server(tls_->certs().server_cert, tls_->certs().server_key);
    ASSERT_TRUE(tls) << tls.error().message();
    settings.tls = *tls;
    log_ = std::make_shared<RecordingHandler::Log>();
    auto server = ThreadedMySqlServer::start(std::move(settings), RecordingHandler::factory(log_));
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
  }

  // The fields node printed (first is "OK" or "ERROR").
  std::vector<std::string> mysql2(const std::string& user, const std::string& password, bool tls) {
    auto output =
        run_command({"node", node_dir() + "/mysql2_login.js", "127.0.0.1", std::to_string(server_->port()),
                     user, password, tls ? tls_->certs().ca_cert : "-", "SELECT who"},
                    {}, std::chrono::seconds(60));
    EXPECT_TRUE(output) << output.error().message();
    if (!output) return {};
    Rows rows = parse_batch_output(output->out);
    EXPECT_EQ(rows.size(), 1u) << output->out << output->err;
    return rows.empty() ? std::vector<std::string>{} : rows[0];
  }

  static inline std::unique_ptr<testing::TlsTestDir> tls_;
  static inline std::shared_ptr<const net::RsaKeyPair> rsa_keys_;
  std::shared_ptr<RecordingHandler::Log> log_;
  std::unique_ptr<ThreadedMySqlServer> server_;
};

// Fields: "OK", then RecordingHandler's columns.
constexpr int kUser = 2, kTls = 4, kPlugin = 5, kNothing = 9;

TEST_F(Mysql2LoginTest, CachingSha2FastPath) {
  auto fields = mysql2("sha2user", "sha2-pass", false);
  ASSERT_EQ(fields.size(), 10u);
  EXPECT_EQ(fields[0], "OK");
  EXPECT_EQ(fields[kUser], "sha2user");
  EXPECT_EQ(fields[kTls], "NO");
  EXPECT_EQ(fields[kPlugin], "caching_sha2_password/sha2 fast path");
  EXPECT_EQ(fields[kNothing], "NULL");
}

TEST_F(Mysql2LoginTest, CachingSha2FastPathOverVerifiedTls) {
  auto fields = mysql2("sha2user", "sha2-pass", true);
  ASSERT_EQ(fields.size(), 10u);
  EXPECT_EQ(fields[0], "OK");
  EXPECT_EQ(fields[kTls], "YES");
  EXPECT_EQ(fields[kPlugin], "caching_sha2_password/sha2 fast path");
}

TEST_F(Mysql2LoginTest, CachingSha2FullPathOverTls) {
  auto fields = mysql2("nativeuser", "native-pass", true);
  ASSERT_EQ(fields.size(), 10u);
  EXPECT_EQ(fields[0], "OK");
  EXPECT_EQ(fields[kUser], "nativeuser");
  EXPECT_EQ(fields[kTls], "YES");
  EXPECT_EQ(fields[kPlugin], "caching_sha2_password/sha2 full authentication over TLS");
}

// Issue 14 item 1: without TLS a native-hash-only account is switched to mysql_native_password, as
// mysqld does, instead of being asked for full authentication.
TEST_F(Mysql2LoginTest, NativeOnlyAccountIsSwitchedToNativePasswordWithoutTls) {
  auto fields = mysql2("nativeuser", "native-pass", false);
  ASSERT_EQ(fields.size(), 10u);
  EXPECT_EQ(fields[0], "OK");
  EXPECT_EQ(fields[kTls], "NO");
  EXPECT_EQ(fields[kPlugin], "mysql_native_password/native scramble");
}

TEST_F(Mysql2LoginTest, WrongPasswordIsDenied) {
  for (const auto& [user, tls] :
       std::vector<std::pair<std::string, bool>>{{"sha2user", false}, {"nativeuser", true}}) {
    auto fields = mysql2(user, "wrong", tls);
    ASSERT_EQ(fields.size(), 4u);
    EXPECT_EQ(fields[0], "ERROR");
    EXPECT_EQ(fields[1], "1045");
    EXPECT_EQ(fields[2], "28000");
    EXPECT_NE(fields[3].find("Access denied for user '" + user + "'"), std::string::npos) << fields[3];
  }
}

}  // namespace
}  // namespace brelay::testing
