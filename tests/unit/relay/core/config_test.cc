#include "relay/core/config.h"

#include <sys/stat.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "relay/core/config_to_layers.h"
#include "tests/support/temp_dir.h"

namespace brelay::relay {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kValid = R"(
[source]
host = "10.0.0.5"
port = 3307
user = "repl"
password = "secret"
server_id = 4001
gtid = true
tls = "disabled"
heartbeat_period = "500ms"
reconnect_max_delay = "1m"

[storage]
data_dir = "/var/lib/binlog-relay"
sync = "none"
retention_time = "7d"
retention_size = "100GiB"
protect_replicas = false

[server]
listen = "[::1]:3306"
server_id = 4002

[[users]]
name = "azure_repl"
password = "pw"
role = "replica"

[[users]]
name = "ops"
native_hash = "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
sha2_hash = "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"
role = "admin"

[metrics]
listen = "127.0.0.1:9104"
)";

Result<Config> parse(std::string_view text) {
  return parse_config(text, "/etc/binlog-relay/relay.toml");
}

std::string replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  const auto at = out.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  out.replace(at, from.size(), to);
  return out;
}

std::string error_of(const Result<Config>& result) {
  EXPECT_FALSE(result) << "expected an error";
  return result ? "" : result.error().message();
}

TEST(Config, ValidFileParsesEveryKey) {
  auto config = parse(kValid);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->source.host, "10.0.0.5");
  EXPECT_EQ(config->source.port, 3307);
  EXPECT_EQ(config->source.password, "secret");
  EXPECT_EQ(config->source.server_id, 4001u);
  EXPECT_TRUE(config->source.gtid);
  EXPECT_EQ(config->source.tls, net::TlsMode::kDisabled);
  EXPECT_EQ(config->source.heartbeat_period, std::chrono::milliseconds(500));
  EXPECT_EQ(config->source.reconnect_max_delay, std::chrono::minutes(1));
  EXPECT_EQ(config->storage.sync, SyncMode::kNone);
  EXPECT_EQ(config->storage.retention_time, std::chrono::hours(24 * 7));
  EXPECT_EQ(config->storage.retention_size, std::uint64_t{100} << 30);
  EXPECT_FALSE(config->storage.protect_replicas);
  EXPECT_EQ(config->server.listen.host, "::1");
  EXPECT_EQ(config->server.listen.port, 3306);
  EXPECT_EQ(config->server.server_id, 4002u);
  ASSERT_EQ(config->users.size(), 2u);
  EXPECT_EQ(config->users[0].password, "pw");
  EXPECT_EQ(config->users[1].role, Role::kAdmin);
  EXPECT_EQ(config->users[1].native_hash, "*2470c0c06dee42fd1618bb99005adca2ec9d1e19");
  EXPECT_EQ(config->users[1].sha2_hash, "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
  ASSERT_TRUE(config->metrics.listen);
  EXPECT_EQ(config->metrics.listen->to_string(), "127.0.0.1:9104");
}

TEST(Config, ReplicaGraceIsADurationOfAtLeastOneSecond) {
  auto config = parse(replace(kValid, "protect_replicas = false", "replica_grace = \"36h\""));
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->storage.replica_grace, std::chrono::hours(36));
  EXPECT_NE(error_of(parse(replace(kValid, "protect_replicas = false", "replica_grace = \"0\"")))
                .find("replica_grace: must be at least 1s"),
            std::string::npos);
}

TEST(Config, EncryptionKeyFileIsAPathReadOnlyByTheCommandsThatOpenTheStore) {
  auto config = parse(replace(kValid, "protect_replicas = false", "encryption_key_file = \"keys\""));
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->storage.encryption_key_file, "/etc/binlog-relay/keys");  // not read while parsing
  auto absent = parse(kValid);
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->storage.encryption_key_file, "");
}

TEST(Config, CompressionIsZstdOrNoneWithALevelAndAnAge) {
  auto defaults = parse(kValid);
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->storage.compression, "none");
  EXPECT_EQ(defaults->storage.compression_level, 3);
  EXPECT_EQ(defaults->storage.compress_after, std::chrono::hours(1));
  auto config = parse(replace(kValid, "protect_replicas = false",
                              "compression = \"zstd\"\ncompression_level = 19\ncompress_after = \"0s\""));
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->storage.compression, "zstd");
  EXPECT_EQ(config->storage.compression_level, 19);
  EXPECT_EQ(config->storage.compress_after, std::chrono::seconds(0));
  EXPECT_NE(error_of(parse(replace(kValid, "protect_replicas = false", "compression = \"lz4\"")))
                .find("compression: 'lz4' is not a compression"),
            std::string::npos);
  EXPECT_NE(error_of(parse(replace(kValid, "protect_replicas = false", "compression_level = 20")))
                .find("compression_level"),
            std::string::npos);
}

TEST(Config, StoreOptionsLoadTheKeyFileAndRefuseOneOthersCanRead) {
  auto dir = testing::TempDir::create("config-keys");
  ASSERT_TRUE(dir);
  StorageConfig storage;
  auto plain = store_options(storage);
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(plain->master_keys, nullptr);
  storage.encryption_key_file = dir->file("keys");
  {
    std::ofstream out(storage.encryption_key_file);
    out << "# master keys\n3 " << std::string(64, 'a') << "\n";
  }
  ::chmod(storage.encryption_key_file.c_str(), 0644);
  auto open_to_others = store_options(storage);
  ASSERT_FALSE(open_to_others);
  EXPECT_THAT(open_to_others.error().message(), HasSubstr("chmod 600"));
  EXPECT_THAT(open_to_others.error().message(), HasSubstr("encryption_key_file"));
  ::chmod(storage.encryption_key_file.c_str(), 0600);
  auto loaded = store_options(storage, true);
  ASSERT_TRUE(loaded) << loaded.error().message();
  ASSERT_NE(loaded->master_keys, nullptr);
  EXPECT_EQ(loaded->master_keys->current().id, 3u);
  EXPECT_TRUE(loaded->read_only);
}

TEST(Config, DefaultsApplyWhenKeysAreAbsent) {
  auto config = parse(R"([source]
host = "db"
user = "repl"
password = ""
server_id = 7
[server]
server_id = 8
[[users]]
name = "r"
password = "x"
)");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->source.port, 3306);
  EXPECT_EQ(config->source.tls, net::TlsMode::kPreferred);
  EXPECT_EQ(config->source.start_position, 4u);
  EXPECT_EQ(config->storage.sync, SyncMode::kCommit);
  EXPECT_TRUE(config->storage.protect_replicas);
  EXPECT_EQ(config->storage.replica_grace, std::chrono::hours(24 * 7));
  EXPECT_EQ(config->server.listen.to_string(), "0.0.0.0:3306");
  EXPECT_FALSE(config->metrics.listen);
  EXPECT_EQ(config->log.level, "info");
}

TEST(Config, UnknownKeyNamesKeyAndLine) {
  const std::string text = replace(kValid, "port = 3307", "prot = 3307");
  EXPECT_EQ(error_of(parse(text)),
            "/etc/binlog-relay/relay.toml:4: [source] unknown key 'prot'; check its spelling against the "
            "documented keys");
}

TEST(Config, UnknownSectionIsAnError) {
  EXPECT_THAT(error_of(parse(std::string(kValid) + "\n[sever]\nlisten = \"x\"\n")),
              HasSubstr("relay.toml:38: unknown section or key 'sever'"));
}

TEST(Config, BadDurationNamesKeyLineAndUnits) {
  const std::string text = replace(kValid, "\"500ms\"", "\"5 seconds\"");
  EXPECT_THAT(error_of(parse(text)),
              HasSubstr("relay.toml:10: [source] heartbeat_period: '5 seconds' has no known unit"));
  EXPECT_THAT(error_of(parse(replace(kValid, "\"500ms\"", "500"))),
              HasSubstr("relay.toml:10: [source] heartbeat_period: must be a duration string"));
}

TEST(Config, BadSizeNamesKeyAndLine) {
  EXPECT_THAT(
      error_of(parse(replace(kValid, "\"100GiB\"", "\"100GB\""))),
      HasSubstr(
          "relay.toml:17: [storage] retention_size: '100GB' has no known unit: use KiB, MiB, GiB or TiB"));
}

TEST(Config, MissingPasswordIsAnError) {
  EXPECT_THAT(error_of(parse(replace(kValid, "password = \"secret\"\n", ""))),
              HasSubstr("relay.toml:2: [source]: password is missing"));
  EXPECT_THAT(error_of(parse(replace(kValid, "password = \"pw\"\n", ""))),
              HasSubstr("[users]: user 'azure_repl' has no password"));
}

TEST(Config, UnreadableCertificateIsAnError) {
  const std::string text = replace(kValid, "server_id = 4002",
                                   "server_id = 4002\ntls_cert = \"/nonexistent/cert.pem\"\n"
                                   "tls_key = \"/nonexistent/key.pem\"");
  EXPECT_THAT(
      error_of(parse(text)),
      HasSubstr(
          "relay.toml:23: [server] tls_cert: cannot read /nonexistent/cert.pem: No such file or directory"));
}

TEST(Config, CertificateThatIsNotPemIsAnError) {
  auto dir = testing::TempDir::create("config");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(testing::write_file(dir->file("cert.pem"), "not a certificate"));
  ASSERT_TRUE(testing::write_file(dir->file("key.pem"), "-----BEGIN PRIVATE KEY-----\n"));
  const std::string text = replace(kValid, "server_id = 4002",
                                   "server_id = 4002\ntls_cert = \"cert.pem\"\n"
                                   "tls_key = \"key.pem\"");
  EXPECT_THAT(error_of(parse_config(text, dir->file("relay.toml"))),
              HasSubstr("[server] tls_cert: " + dir->file("cert.pem") + " is not a PEM file"));
}

TEST(Config, ServerIdEqualToSourceServerIdIsAnError) {
  EXPECT_THAT(error_of(parse(replace(kValid, "server_id = 4002", "server_id = 4001"))),
              HasSubstr("relay.toml:22: [server] server_id: 4001 equals [source] server_id"));
}

TEST(Config, PasswordFilesAreReadRelativeToTheConfig) {
  auto dir = testing::TempDir::create("config");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(testing::write_file(dir->file("source.pass"), "s3cret\n"));
  ASSERT_TRUE(testing::write_file(dir->file("user.pass"), "userpw"));
  std::string text = replace(kValid, "password = \"secret\"", "password_file = \"source.pass\"");
  text = replace(text, "password = \"pw\"", "password_file = \"" + dir->file("user.pass") + "\"");
  auto config = parse_config(text, dir->file("relay.toml"));
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->source.password, "s3cret");
  EXPECT_EQ(config->users[0].password, "userpw");

  EXPECT_THAT(
      error_of(parse_config(replace(kValid, "password = \"secret\"", "password_file = \"missing.pass\""),
                            dir->file("relay.toml"))),
      HasSubstr("[source] password_file: cannot read " + dir->file("missing.pass")));
  EXPECT_THAT(
      error_of(parse(replace(kValid, "password = \"secret\"", "password = \"a\"\npassword_file = \"b\""))),
      HasSubstr("give either password or password_file, not both"));
}

TEST(Config, UserValidation) {
  EXPECT_THAT(error_of(parse(replace(kValid, "role = \"admin\"", "role = \"root\""))),
              HasSubstr("[users] role: 'root' is not a role"));
  EXPECT_THAT(
      error_of(parse(replace(kValid, "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", "2470C0C06DEE42FD"))),
      HasSubstr("[users] native_hash: must be '*' followed by 40 hex digits"));
  EXPECT_THAT(error_of(parse(replace(kValid, "name = \"ops\"", "name = \"azure_repl\""))),
              HasSubstr("user 'azure_repl' is defined twice"));
  EXPECT_THAT(error_of(parse(replace(kValid, "password = \"pw\"",
                                     "password = \"pw\"\nsha2_hash = \"" + std::string(64, 'a') + "\""))),
              HasSubstr("give a password or hashes, not both"));
}

TEST(Config, SchemaFlagOfUsers) {
  auto config = parse(replace(kValid, "role = \"admin\"", "role = \"admin\"\nschema = true"));
  ASSERT_TRUE(config) << config.error().message();
  ASSERT_EQ(config->users.size(), 2u);
  EXPECT_FALSE(config->users[0].schema) << "off unless asked for";
  EXPECT_TRUE(config->users[1].schema);
  EXPECT_THAT(error_of(parse(replace(kValid, "role = \"admin\"", "role = \"admin\"\nschema = \"yes\""))),
              HasSubstr("[users] schema"));
}

TEST(Config, DelayOfUsersAndHoldOnHazard) {
  auto config = parse(replace(replace(kValid, "role = \"replica\"", "role = \"replica\"\ndelay = \"5s\""),
                              "server_id = 4002", "server_id = 4002\nhold_on_hazard = true"));
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->users[0].delay, std::chrono::seconds(5));
  EXPECT_EQ(config->users[1].delay, Duration(0)) << "no delay unless asked for";
  EXPECT_TRUE(config->server.hold_on_hazard);
  auto defaults = parse(kValid);
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(defaults->server.hold_on_hazard);
  EXPECT_THAT(error_of(parse(replace(kValid, "role = \"replica\"", "role = \"replica\"\ndelay = \"5 sec\""))),
              HasSubstr("[users] delay"));
  EXPECT_THAT(error_of(parse(replace(kValid, "role = \"replica\"", "role = \"replica\"\ndelay = \"400d\""))),
              HasSubstr("more than a year"));
  EXPECT_THAT(
      error_of(parse(replace(kValid, "server_id = 4002", "server_id = 4002\nhold_on_hazard = \"yes\""))),
      HasSubstr("[server] hold_on_hazard"));
}

TEST(Config, TlsSettingsAreChecked) {
  EXPECT_THAT(error_of(parse(replace(kValid, "tls = \"disabled\"", "tls = \"verify_ca\""))),
              HasSubstr("[source] tls_ca: is required with tls = \"verify_ca\""));
  EXPECT_THAT(error_of(parse(replace(kValid, "tls = \"disabled\"", "tls = \"on\""))),
              HasSubstr("[source] tls: 'on' is not a TLS mode"));
  EXPECT_THAT(error_of(parse(replace(kValid, "server_id = 4002", "server_id = 4002\nrequire_tls = true"))),
              HasSubstr("[server] require_tls: needs tls_cert and tls_key"));
}

TEST(Config, SyntaxErrorsReportTheLine) {
  EXPECT_THAT(error_of(parse("[source]\nhost = \"x\nuser = 1\n")), HasSubstr("relay.toml:2:"));
}

TEST(Config, RangesAreChecked) {
  EXPECT_THAT(error_of(parse(replace(kValid, "port = 3307", "port = 70000"))),
              HasSubstr("[source] port: 70000 is out of range: use a whole number from 1 to 65535"));
  EXPECT_THAT(error_of(parse(replace(kValid, "server_id = 4001", "server_id = 0"))),
              HasSubstr("[source] server_id: 0 is out of range"));
  EXPECT_THAT(error_of(parse(replace(kValid, "listen = \"[::1]:3306\"", "listen = \"3306\""))),
              HasSubstr("[server] listen: '3306' is not an address"));
}

TEST(ConfigUnits, DurationsAndSizes) {
  EXPECT_EQ(*parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parse_duration("2h"), std::chrono::hours(2));
  EXPECT_EQ(*parse_duration("0"), std::chrono::milliseconds(0));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("99999999999999999999d"));
  EXPECT_EQ(*parse_size("0"), 0u);
  EXPECT_EQ(*parse_size("512KiB"), 512u * 1024);
  EXPECT_EQ(*parse_size("1TiB"), std::uint64_t{1} << 40);
  EXPECT_FALSE(parse_size("1.5GiB"));
  EXPECT_FALSE(parse_size("99999999999TiB"));
  EXPECT_EQ(parse_listen_address("db.example:3306")->host, "db.example");
  EXPECT_FALSE(parse_listen_address("::1:3306"));
  EXPECT_FALSE(parse_listen_address("host:0"));
}

TEST(Config, ConnectionLimitsAndAccountRestrictions) {
  auto defaults = parse(kValid);
  ASSERT_TRUE(defaults) << defaults.error().message();
  EXPECT_EQ(defaults->server.max_connections, 151u);
  EXPECT_EQ(defaults->server.max_unauthenticated_connections, 64u);
  EXPECT_EQ(defaults->server.connect_timeout, std::chrono::seconds(10));
  EXPECT_EQ(defaults->server.net_write_timeout, std::chrono::seconds(60));
  EXPECT_EQ(defaults->server.max_connect_errors, 100u);
  EXPECT_TRUE(defaults->users[0].hosts.empty());
  EXPECT_FALSE(defaults->users[0].require_tls);
  EXPECT_EQ(defaults->users[0].max_connections, 0u);

  std::string text =
      replace(kValid, "server_id = 4002\n",
              "server_id = 4002\nmax_connections = 20\nmax_unauthenticated_connections = 8\n"
              "connect_timeout = \"3s\"\nmax_connect_errors = 5\nnet_write_timeout = \"2s\"\n");
  text = replace(text, "role = \"replica\"\n",
                 "role = \"replica\"\nhosts = [\"20.0.0.0/8\", \"2001:db8::/32\", \"replica.example\", "
                 "\"127.0.0.1\", \"%\"]\nmax_connections = 3\n");
  auto config = parse(text);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->server.max_connections, 20u);
  EXPECT_EQ(config->server.max_unauthenticated_connections, 8u);
  EXPECT_EQ(config->server.connect_timeout, std::chrono::seconds(3));
  EXPECT_EQ(config->server.net_write_timeout, std::chrono::seconds(2));
  EXPECT_EQ(config->server.max_connect_errors, 5u);
  EXPECT_EQ(config->users[0].hosts.size(), 5u);
  EXPECT_EQ(config->users[0].max_connections, 3u);

  const std::string base =
      replace(kValid, "role = \"replica\"\n", "role = \"replica\"\nhosts = [\"ENTRY\"]\n");
  EXPECT_THAT(
      error_of(parse(replace(base, "ENTRY", "10.0.0.0/33"))),
      HasSubstr("[users] hosts: user 'azure_repl': entry '10.0.0.0/33' is not an address or CIDR range"));
  EXPECT_THAT(error_of(parse(replace(base, "ENTRY", "2001:db8::/200"))),
              HasSubstr("user 'azure_repl': entry '2001:db8::/200'"));
  EXPECT_THAT(error_of(parse(replace(base, "ENTRY", "10.0.0.300"))),
              HasSubstr("entry '10.0.0.300' is not an address or CIDR range"));
  EXPECT_THAT(error_of(parse(replace(base, "ENTRY", "bad host!"))),
              HasSubstr("entry 'bad host!' is neither an address, a CIDR range"));
  EXPECT_THAT(error_of(parse(
                  replace(kValid, "role = \"replica\"\n", "role = \"replica\"\nhosts = \"10.0.0.0/8\"\n"))),
              HasSubstr("[users] hosts: must be an array of strings"));
  EXPECT_THAT(
      error_of(parse(replace(kValid, "role = \"replica\"\n", "role = \"replica\"\nrequire_tls = true\n"))),
      HasSubstr("[users] require_tls: user 'azure_repl': needs [server] tls_cert"));
  EXPECT_THAT(
      error_of(parse(replace(kValid, "server_id = 4002\n", "server_id = 4002\nmax_connections = 0\n"))),
      HasSubstr("[server] max_connections: 0 is out of range"));
  EXPECT_THAT(error_of(parse(
                  replace(kValid, "server_id = 4002\n", "server_id = 4002\nconnect_timeout = \"10ms\"\n"))),
              HasSubstr("[server] connect_timeout: must be from 1s to 1h"));
  EXPECT_THAT(error_of(parse(replace(kValid, "server_id = 4002\n",
                                     "server_id = 4002\nnet_write_timeout = \"500ms\"\n"))),
              HasSubstr("[server] net_write_timeout: must be 0 (never) or from 1s to 24h"));
  auto never = parse(replace(kValid, "server_id = 4002\n", "server_id = 4002\nnet_write_timeout = \"0\"\n"));
  ASSERT_TRUE(never) << never.error().message();
  EXPECT_EQ(never->server.net_write_timeout.count(), 0);
}

TEST(Config, MaxAllowedPacketDefaultsToMysqlsAndIsChecked) {
  auto config = parse(kValid);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->server.max_allowed_packet, std::uint64_t{64} << 20);
  config = parse(replace(kValid, "server_id = 4002", "server_id = 4002\nmax_allowed_packet = \"8MiB\""));
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->server.max_allowed_packet, std::uint64_t{8} << 20);
  config = parse(replace(kValid, "server_id = 4002", "server_id = 4002\nmax_allowed_packet = 5000"));
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->server.max_allowed_packet, 4096u);  // whole KiB, as MySQL rounds
  EXPECT_THAT(
      error_of(parse(replace(kValid, "server_id = 4002", "server_id = 4002\nmax_allowed_packet = 100"))),
      HasSubstr("[server] max_allowed_packet: 100 bytes is out of range: use 1KiB to 1GiB"));
  EXPECT_THAT(
      error_of(parse(replace(kValid, "server_id = 4002", "server_id = 4002\nmax_allowed_packet = \"2GiB\""))),
      HasSubstr("[server] max_allowed_packet: 2147483648 bytes is out of range"));
}

TEST(Config, SourceHostsListsThePrimaryAndItsStandbys) {
  const std::string hosts = replace(kValid, "host = \"10.0.0.5\"\nport = 3307",
                                    "hosts = [\"db1:3306\", \"[::1]:3307\"]\nfailover_after = \"5s\"");
  auto config = parse(hosts);
  ASSERT_TRUE(config) << config.error().message();
  ASSERT_EQ(config->source.hosts.size(), 2U);
  EXPECT_EQ(config->source.hosts[1].to_string(), "[::1]:3307");
  EXPECT_EQ(config->source.host, "db1") << "host/port name the first, for single-server code";
  EXPECT_EQ(config->source.port, 3306);
  EXPECT_EQ(config->source.failover_after, std::chrono::seconds(5));

  auto single = parse(kValid);
  ASSERT_TRUE(single) << single.error().message();
  ASSERT_EQ(single->source.hosts.size(), 1U);
  EXPECT_EQ(single->source.hosts[0].to_string(), "10.0.0.5:3307");
  EXPECT_EQ(single->source.failover_after, std::chrono::milliseconds(1500)) << "three heartbeat periods";
}

TEST(Config, SourceHostsErrors) {
  const auto with_hosts = [](std::string_view value) {
    return replace(kValid, "host = \"10.0.0.5\"\nport = 3307", value);
  };
  EXPECT_THAT(
      error_of(parse(replace(kValid, "port = 3307", "port = 3307\nhosts = [\"a:1\"]"))),
      HasSubstr("[source] hosts: give either hosts = [\"db1:3306\", ...] or host and port, not both"));
  EXPECT_THAT(error_of(parse(with_hosts("hosts = [\"db1\"]"))),
              HasSubstr("[source] hosts: 'db1' is not a source address"));
  EXPECT_THAT(error_of(parse(with_hosts("hosts = []"))), HasSubstr("[source] hosts: is empty"));
  EXPECT_THAT(error_of(parse(with_hosts("hosts = [\"a:1\", \"a:1\"]"))), HasSubstr("'a:1' is listed twice"));
  EXPECT_THAT(
      error_of(parse(replace(with_hosts("hosts = [\"a:1\", \"b:1\"]"), "gtid = true", "gtid = false"))),
      HasSubstr("[source] hosts: lists several servers, which needs gtid = true"));
  EXPECT_THAT(error_of(parse(with_hosts("hosts = [\"a:1\"]\nfailover_after = \"10ms\""))),
              HasSubstr("[source] failover_after: must be at least 100ms"));
}

}  // namespace
}  // namespace brelay::relay
