// Configuration hygiene (issue 19 item 9): which keys hold plain-text secrets, the file-mode rule
// that `run` and `check` apply, the [metrics] status token keys and the [server] TLS policy keys.
#include "relay/core/config_access.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::string_view kPlain = R"(
[source]
host = "10.0.0.5"
user = "repl"
password = "secret"
server_id = 4001

[server]
server_id = 4002

[[users]]
name = "azure_repl"
password = "pw"

[[users]]
name = "ops"
native_hash = "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
role = "admin"
)";

constexpr std::string_view kHashed = R"(
[source]
host = "10.0.0.5"
user = "repl"
password_file = "source.pass"
server_id = 4001

[server]
server_id = 4002

[[users]]
name = "ops"
sha2_hash = "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"
)";

TEST(ConfigAccess, PlainTextSecretsAreNamedByKey) {
  auto config = parse_config(std::string(kPlain) + "[metrics]\nstatus_token = \"tok\"\n", "/x/relay.toml");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_THAT(config->inline_secrets, ElementsAre("[source] password", "[[users]] password of 'azure_repl'",
                                                  "[metrics] status_token"));
  EXPECT_EQ(config->metrics.status_token, "tok");
}

TEST(ConfigAccess, TheModeRule) {
  // Others may never read; the group only when root owns the file (0640 root:binlog-relay).
  EXPECT_FALSE(config_mode_exposes_secrets(0600, 1000));
  EXPECT_FALSE(config_mode_exposes_secrets(0400, 0));
  EXPECT_FALSE(config_mode_exposes_secrets(0640, 0));
  EXPECT_TRUE(config_mode_exposes_secrets(0640, 1000));
  EXPECT_TRUE(config_mode_exposes_secrets(0644, 0));
  EXPECT_TRUE(config_mode_exposes_secrets(0604, 1000));
  EXPECT_FALSE(config_mode_exposes_secrets(0620, 1000));  // writable, not readable, by the group
}

TEST(ConfigAccess, AFileOthersMayReadIsExposedOnlyWithPlainSecrets) {
  auto dir = testing::TempDir::create("config-access");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(testing::write_file(dir->file("source.pass"), "s3cret\n"));
  const std::string plain = dir->file("plain.toml");
  const std::string hashed = dir->file("hashed.toml");
  ASSERT_TRUE(testing::write_file(plain, kPlain));
  ASSERT_TRUE(testing::write_file(hashed, kHashed));

  auto config = load_config(plain);
  ASSERT_TRUE(config) << config.error().message();
  auto exposure = config_exposure(*config);
  ASSERT_TRUE(exposure) << exposure.error().message();
  EXPECT_FALSE(*exposure) << "written 0600";

  ASSERT_EQ(::chmod(plain.c_str(), 0644), 0);
  exposure = config_exposure(*config);
  ASSERT_TRUE(exposure && *exposure);
  EXPECT_THAT((*exposure)->problem, HasSubstr(plain + " holds plain-text secrets ([source] password, "
                                                      "[[users]] password of 'azure_repl')"));
  EXPECT_THAT((*exposure)->problem, HasSubstr("every user of this host (mode 0644"));
  EXPECT_THAT((*exposure)->fix, HasSubstr("chmod 600 " + plain));
  EXPECT_THAT((*exposure)->fix, HasSubstr("--allow-insecure-config"));

  auto hashed_config = load_config(hashed);
  ASSERT_TRUE(hashed_config) << hashed_config.error().message();
  EXPECT_TRUE(hashed_config->inline_secrets.empty());
  ASSERT_EQ(::chmod(hashed.c_str(), 0644), 0);
  exposure = config_exposure(*hashed_config);
  ASSERT_TRUE(exposure);
  EXPECT_FALSE(*exposure) << "no plain-text secret in the file";
}

TEST(ConfigAccess, StatusTokenKeys) {
  auto dir = testing::TempDir::create("config-token");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(testing::write_file(dir->file("status.token"), "from-file\n"));
  ASSERT_TRUE(testing::write_file(dir->file("source.pass"), "s3cret\n"));
  auto config = parse_config(std::string(kHashed) + "[metrics]\nstatus_token_file = \"status.token\"\n",
                             dir->file("relay.toml"));
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->metrics.status_token, "from-file");
  EXPECT_TRUE(config->inline_secrets.empty());
  auto both =
      parse_config(std::string(kHashed) + "[metrics]\nstatus_token = \"a\"\nstatus_token_file = \"b\"\n",
                   dir->file("relay.toml"));
  ASSERT_FALSE(both);
  EXPECT_THAT(both.error().message(), HasSubstr("give either status_token or status_token_file"));
  auto empty =
      parse_config(std::string(kHashed) + "[metrics]\nstatus_token = \"\"\n", dir->file("relay.toml"));
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error().message(), HasSubstr("[metrics] status_token: must not be empty"));
}

TEST(ConfigAccess, ServerTlsPolicyKeys) {
  auto dir = testing::TempDir::create("config-tls");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(testing::write_file(dir->file("source.pass"), "s3cret\n"));
  const std::string path = dir->file("relay.toml");
  auto with_server = [&](std::string_view lines) {
    std::string text(kHashed);
    text.replace(text.find("server_id = 4002"), 16, "server_id = 4002\n" + std::string(lines));
    return parse_config(text, path);
  };
  auto defaults = with_server("");
  ASSERT_TRUE(defaults) << defaults.error().message();
  EXPECT_EQ(defaults->server.tls_ciphers, net::kDefaultTlsCiphers);
  EXPECT_EQ(defaults->server.tls_min_version, net::TlsVersion::kTls12);
  auto set = with_server("tls_ciphers = \"ECDHE+CHACHA20\"\ntls_min_version = \"TLSv1.3\"\n");
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(set->server.tls_ciphers, "ECDHE+CHACHA20");
  EXPECT_EQ(set->server.tls_min_version, net::TlsVersion::kTls13);
  auto old = with_server("tls_min_version = \"TLSv1.1\"\n");
  ASSERT_FALSE(old);
  EXPECT_THAT(old.error().message(), HasSubstr("[server] tls_min_version: 'TLSv1.1' is too old"));
  auto unknown = with_server("tls_ciphers = \"NO-SUCH-CIPHER\"\n");
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message(), HasSubstr("[server] tls_ciphers: 'NO-SUCH-CIPHER' names no cipher"));
}

}  // namespace
}  // namespace brelay::relay
