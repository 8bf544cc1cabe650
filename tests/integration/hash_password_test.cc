// `binlog-relay hash-password` end to end: the lines it prints go into a [[users]] entry of a
// relay configuration, which the relay's config loader accepts; an account built from those hashes
// on net/'s server lets the real `mariadb` client in with that password, through
// mysql_native_password and through caching_sha2_password, and keeps a wrong password out.
#include <gtest/gtest.h>

#include "net/accounts.h"
#include "relay/core/config.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/process.h"
#include "tests/support/relay_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/threaded_mysql_server.h"

namespace brelay::testing {
namespace {

constexpr const char* kClientPluginDir = "/usr/lib/x86_64-linux-gnu/libmariadb3/plugin";
constexpr const char* kPassword = "Tr1cky pass: 'quotes' \"and\" spaces";

CommandOutput mariadb_login(std::uint16_t port, const std::string& user, const std::string& password,
                            const std::string& auth_plugin) {
  auto output =
      run_command({"mariadb", "--no-defaults", "--protocol=TCP", "--host=127.0.0.1",
                   "--port=" + std::to_string(port), "--user=" + user, "--password=" + password,
                   "--plugin-dir=" + std::string(kClientPluginDir), "--default-auth=" + auth_plugin,
                   "--ssl=0", "--batch", "--skip-column-names", "--connect-timeout=10", "-e", "SELECT who"},
                  {}, std::chrono::seconds(60));
  EXPECT_TRUE(output) << output.error().message();
  return output ? *output : CommandOutput{};
}

TEST(HashPassword, PrintedHashesLoadAsAUserAndLetTheRealClientIn) {
  auto dir = TempDir::create("hash-password");
  ASSERT_TRUE(dir);
  // From standard input (not a terminal: the first line).
  auto printed = run_command({binlog_relay_path(), "hash-password"}, std::string(kPassword) + "\n");
  ASSERT_TRUE(printed) << printed.error().message();
  ASSERT_EQ(printed->exit_status, 0) << printed->err;
  // The same from a password file.
  ASSERT_TRUE(write_file(dir->file("pw"), std::string(kPassword) + "\n"));
  auto from_file = run_command({binlog_relay_path(), "hash-password", "--password-file", dir->file("pw")});
  ASSERT_TRUE(from_file);
  EXPECT_EQ(from_file->out, printed->out);

  TestRelayConfig relay;
  relay.data_dir = dir->file("data");
  relay.users = "[[users]]\nname = \"azure_repl\"\n" + printed->out + "role = \"replica\"\n";
  auto config = relay::parse_config(relay.to_toml(), dir->file("relay.toml"));
  ASSERT_TRUE(config) << config.error().message() << "\n" << relay.to_toml();
  ASSERT_EQ(config->users.size(), 1u);
  const relay::UserConfig& user = config->users[0];
  EXPECT_FALSE(user.password);

  net::Account account;
  account.role = "replica";
  auto native = net::parse_native_password_hash(user.native_hash);
  auto sha2 = net::parse_caching_sha2_password_hash(user.sha2_hash);
  ASSERT_TRUE(native && sha2);
  account.native_hash = *native;
  account.sha2_hash = *sha2;
  auto accounts = std::make_shared<net::StaticAccountStore>();
  accounts->add(user.name, account);
  auto keys = net::RsaKeyPair::generate();
  ASSERT_TRUE(keys);
  for (const char* plugin : {"mysql_native_password", "caching_sha2_password"}) {
    // The server proposes the plugin in its greeting, as MySQL 5.7 and 8.0 sources do.
    net::ServerSettings settings;
    settings.accounts = accounts;
    settings.rsa_keys = *keys;
    settings.greeting_auth_plugin = plugin;
    auto log = std::make_shared<RecordingHandler::Log>();
    auto server = ThreadedMySqlServer::start(std::move(settings), RecordingHandler::factory(log));
    ASSERT_TRUE(server) << server.error().message();
    const CommandOutput good = mariadb_login((*server)->port(), "azure_repl", kPassword, plugin);
    EXPECT_EQ(good.exit_status, 0) << plugin << ": " << good.err;
    EXPECT_NE(good.out.find("azure_repl"), std::string::npos) << good.out;
    const CommandOutput bad = mariadb_login((*server)->port(), "azure_repl", "wrong password", plugin);
    EXPECT_NE(bad.exit_status, 0) << plugin;
    EXPECT_NE(bad.err.find("Access denied for user 'azure_repl'"), std::string::npos) << bad.err;
  }
}

TEST(HashPassword, OnATerminalItAsksTwice) {
  // `script` (util-linux) gives the command a pseudo-terminal as its standard input.
  const std::string command = binlog_relay_path() + " hash-password";
  auto same =
      run_command({"script", "--quiet", "--return", "--command", command, "/dev/null"}, "s3cret\ns3cret\n");
  ASSERT_TRUE(same) << same.error().message();
  EXPECT_EQ(same->exit_status, 0) << same->out;
  EXPECT_NE(same->out.find("Password: "), std::string::npos) << same->out;
  EXPECT_NE(same->out.find("Same password again: "), std::string::npos) << same->out;
  auto piped = run_command({binlog_relay_path(), "hash-password"}, "s3cret\n");
  ASSERT_TRUE(piped);
  const std::string native_line = piped->out.substr(0, piped->out.find('\n'));
  EXPECT_NE(same->out.find(native_line), std::string::npos) << same->out;

  auto differ =
      run_command({"script", "--quiet", "--return", "--command", command, "/dev/null"}, "s3cret\nother\n");
  ASSERT_TRUE(differ);
  EXPECT_EQ(differ->exit_status, 1);
  EXPECT_NE(differ->out.find("the two passwords differ"), std::string::npos) << differ->out;
  EXPECT_EQ(differ->out.find("native_hash"), std::string::npos) << differ->out;
}

TEST(HashPassword, AnEmptyPasswordIsRefused) {
  auto printed = run_command({binlog_relay_path(), "hash-password"}, "\n");
  ASSERT_TRUE(printed);
  EXPECT_EQ(printed->exit_status, 1);
  EXPECT_TRUE(printed->out.empty());
  EXPECT_NE(printed->err.find("the password is empty"), std::string::npos) << printed->err;
}

TEST(HashPassword, MatchesTheHashesMariaDbStores) {
  // MariaDB's PASSWORD() is SHA1(SHA1(pw)) in the same "*HEX" form: an independent check.
  auto source = MariaDbServer::start({.log_bin = false});
  ASSERT_TRUE(source) << source.error().message();
  auto rows = (*source)->query("SELECT PASSWORD('s3cret'), SHA2(UNHEX(SHA2('s3cret', 256)), 256)");
  ASSERT_TRUE(rows) << rows.error().message();
  ASSERT_EQ(rows->size(), 1u);
  auto printed = run_command({binlog_relay_path(), "hash-password"}, "s3cret\n");
  ASSERT_TRUE(printed);
  EXPECT_EQ(printed->out, "native_hash = \"" + (*rows)[0][0] + "\"\nsha2_hash = \"" + (*rows)[0][1] + "\"\n");
}

}  // namespace
}  // namespace brelay::testing
