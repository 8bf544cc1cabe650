// The relay's network edge against the real executable (issue 19, items 8 and 9):
//  - /health still answers 200, promptly, while more idle connections than the metrics endpoint's
//    limit hold its port (the /health reserve and the idle-connection shedding).
//  - /status needs the bearer token when [metrics] status_token is set, and is disabled when the
//    endpoint listens beyond loopback without one (bound to 0.0.0.0, reached over 127.0.0.1 only);
//    `binlog-relay status` sends the token from the configuration.
//  - A configuration file with plain-text passwords that other users may read is refused by `run`
//    (exit 2, how to fix it) and accepted with --allow-insecure-config (with a warning).
//  - TLS with `openssl s_client -starttls mysql`: AES128-SHA (static RSA) and TLS 1.1 are refused,
//    ECDHE-RSA-AES128-GCM-SHA256 accepted; SIGHUP swaps the certificate for new connections while
//    a TLS session opened before keeps working; a bad new key keeps the old certificate;
//    tls_ciphers and tls_min_version are honoured.
// The relay's source is a closed port: it keeps reconnecting, which leaves it serving (healthy).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include "net/blocking_client.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/raw_tcp_client.h"
#include "tests/support/relay_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

std::size_t count_of(const std::string& text, std::string_view needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

class EdgeHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("edge");
    ASSERT_TRUE(dir) << dir.error().message();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }

  TestRelayConfig base_config() {
    TestRelayConfig config;
    config.source_port = free_loopback_port().value_or(1);  // nothing listens there
    config.source_extra = "tls = \"disabled\"\nreconnect_max_delay = \"1s\"\n";
    config.data_dir = dir_->file("data");
    config.log_level = "info";
    return config;
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(EdgeHardeningTest, HealthAnswersWhileIdleConnectionsFillTheMetricsEndpoint) {
  TestRelayConfig config = base_config();
  const std::uint16_t metrics_port = free_loopback_port().value_or(1);
  config.metrics_listen = fmt::format("127.0.0.1:{}", metrics_port);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();

  // More idle connections than the general limit (64) and the /health reserve (8) together.
  std::vector<std::unique_ptr<RawTcpClient>> idle;
  for (int i = 0; i < 90; ++i) {
    idle.push_back(std::make_unique<RawTcpClient>(metrics_port));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  // Each probe is answered before the idle connections' 5 s header timeout could free a place.
  const auto started = std::chrono::steady_clock::now();
  for (int probe = 0; probe < 3; ++probe) {
    const std::string response = http_get(metrics_port, "/health");
    EXPECT_EQ(http_status_of(response), 200) << response;
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, 4s) << "the /health probes waited for the idle connections to time out";
  // Other paths are not served past the limit.
  EXPECT_EQ(http_status_of(http_get(metrics_port, "/metrics")), 503);

  // The idle connections are shed (closed by the relay) within the header timeout; then /metrics
  // is served again.
  for (auto& client : idle)
    (void)client->read_all();
  idle.clear();
  const bool served =
      wait_until([&] { return http_status_of(http_get(metrics_port, "/metrics")) == 200; }, 15s);
  EXPECT_TRUE(served);
  EXPECT_TRUE((*relay)->running());
}

TEST_F(EdgeHardeningTest, StatusNeedsTheBearerTokenWhenOneIsConfigured) {
  TestRelayConfig config = base_config();
  const std::uint16_t metrics_port = free_loopback_port().value_or(1);
  config.extra =
      fmt::format("[metrics]\nlisten = \"127.0.0.1:{}\"\nstatus_token = \"t0ken-42\"\n", metrics_port);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();

  std::string response = http_get(metrics_port, "/status");
  EXPECT_EQ(http_status_of(response), 401) << response;
  EXPECT_NE(response.find("WWW-Authenticate: Bearer"), std::string::npos) << response;
  EXPECT_EQ(http_status_of(http_get(metrics_port, "/status", "Authorization: Bearer wrong\r\n")), 401);
  EXPECT_EQ(http_status_of(http_get(metrics_port, "/status", "Authorization: Basic dDB rZW4tNDI=\r\n")), 401);
  response = http_get(metrics_port, "/status", "Authorization: Bearer t0ken-42\r\n");
  EXPECT_EQ(http_status_of(response), 200) << response;
  EXPECT_NE(response.find("Upstream"), std::string::npos) << response;
  // Prometheus and probes need no token.
  EXPECT_EQ(http_status_of(http_get(metrics_port, "/metrics")), 200);
  EXPECT_EQ(http_status_of(http_get(metrics_port, "/health")), 200);

  // `binlog-relay status` sends the token from the configuration.
  auto status = run_command({binlog_relay_path(), "status", "--config", (*relay)->config_path()});
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(status->exit_status, 0) << status->out << status->err;
  EXPECT_NE(status->out.find("Upstream"), std::string::npos) << status->out;
}

TEST_F(EdgeHardeningTest, StatusIsDisabledBeyondLoopbackWithoutAToken) {
  TestRelayConfig config = base_config();
  const std::uint16_t metrics_port = free_loopback_port().value_or(1);
  // Bound to every address; the test connects over 127.0.0.1 only.
  config.metrics_listen = fmt::format("0.0.0.0:{}", metrics_port);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  const std::string response = http_get(metrics_port, "/status");
  EXPECT_EQ(http_status_of(response), 403) << response;
  EXPECT_NE(response.find("status_token"), std::string::npos) << response;
  EXPECT_EQ(http_status_of(http_get(metrics_port, "/metrics")), 200);
  EXPECT_EQ(http_status_of(http_get(metrics_port, "/health")), 200);
}

TEST_F(EdgeHardeningTest, AConfigOthersMayReadWithPlainPasswordsIsRefusedUnlessAllowed) {
  const std::string path = dir_->file("relay.toml");
  ASSERT_TRUE(write_file(path, base_config().to_toml()));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto refused = run_command({binlog_relay_path(), "run", "--config", path}, {}, 60s);
  ASSERT_TRUE(refused) << refused.error().message();
  EXPECT_EQ(refused->exit_status, 2) << refused->out << refused->err;
  EXPECT_NE(refused->err.find("refusing to start"), std::string::npos) << refused->err;
  EXPECT_NE(refused->err.find("[source] password"), std::string::npos) << refused->err;
  EXPECT_NE(refused->err.find("[[users]] password of 'repl'"), std::string::npos) << refused->err;
  EXPECT_NE(refused->err.find("chmod 600 " + path), std::string::npos) << refused->err;
  EXPECT_NE(refused->err.find("--allow-insecure-config"), std::string::npos) << refused->err;
  EXPECT_FALSE(std::filesystem::exists(dir_->file("data/data.mdb"))) << "refused before opening the store";

  auto allowed = RelayProcess::launch(path, {"--allow-insecure-config"});
  ASSERT_TRUE(allowed) << allowed.error().message();
  ASSERT_TRUE((*allowed)->wait_for_notification("READY=1", 60s));
  EXPECT_NE((*allowed)->log().find("started anyway (--allow-insecure-config)"), std::string::npos)
      << (*allowed)->log();
  if (::geteuid() == 0) {
    EXPECT_NE((*allowed)->log().find("running as root"), std::string::npos);
  }
  auto stopped = (*allowed)->stop();
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 0);
}

// TLS against the relay's MySQL port with `openssl s_client -starttls mysql`.
class EdgeTlsTest : public EdgeHardeningTest {
 protected:
  struct Handshake {
    bool ok = false;
    std::string output;
  };

  Handshake handshake(std::uint16_t port, std::vector<std::string> options) {
    std::vector<std::string> argv = {
        "openssl",   "s_client", "-connect",    fmt::format("127.0.0.1:{}", port),
        "-starttls", "mysql",    "-servername", "localhost"};
    argv.insert(argv.end(), options.begin(), options.end());
    auto run = run_command(argv, "", 30s);
    EXPECT_TRUE(run) << run.error().message();
    if (!run) return {};
    // A completed handshake names its cipher; a failed one "(NONE)".
    const std::string output = run->out + run->err;
    const bool ok = run->exit_status == 0 && output.find("Cipher is (NONE)") == std::string::npos &&
                    output.find("New, ") != std::string::npos;
    return {ok, output};
  }

  // The first certificate in `text` (PEM).
  static std::string first_certificate(const std::string& text) {
    const std::size_t begin = text.find("-----BEGIN CERTIFICATE-----");
    const std::string end_marker = "-----END CERTIFICATE-----";
    const std::size_t end = text.find(end_marker, begin);
    if (begin == std::string::npos || end == std::string::npos) return "";
    return text.substr(begin, end + end_marker.size() - begin);
  }
};

TEST_F(EdgeTlsTest, ForwardSecretCiphersOnlyAndCertificateReloadOnSighup) {
  auto certs = generate_test_certificates(dir_->path());
  ASSERT_TRUE(certs) << certs.error().message();
  auto second = issue_certificate(*certs, dir_->path(), "relay-second", "DNS:localhost,IP:127.0.0.1", 30);
  ASSERT_TRUE(second) << second.error().message();
  const std::string cert = dir_->file("served-cert.pem");
  const std::string key = dir_->file("served-key.pem");
  std::filesystem::copy_file(certs->server_cert, cert);
  std::filesystem::copy_file(certs->server_key, key);
  const std::uint16_t port = free_loopback_port().value_or(1);
  TestRelayConfig config = base_config();
  config.listen = fmt::format("127.0.0.1:{}", port);
  config.server_extra = fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"\n", cert, key);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();

  // The defaults: no static-RSA suite, no TLS 1.1; ECDHE with AES-GCM.
  Handshake shake = handshake(port, {"-tls1_2", "-cipher", "AES128-SHA"});
  EXPECT_FALSE(shake.ok) << shake.output;
  shake = handshake(port, {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  EXPECT_FALSE(shake.ok) << shake.output;
  shake = handshake(port, {"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"});
  ASSERT_TRUE(shake.ok) << shake.output;
  EXPECT_NE(shake.output.find("Cipher is ECDHE-RSA-AES128-GCM-SHA256"), std::string::npos) << shake.output;
  EXPECT_EQ(first_certificate(shake.output), first_certificate(read_file(cert).value_or("")));

  // A TLS session opened before the reload (the admin: a relay that has never reached its source
  // refuses replica accounts' logins).
  net::ClientOptions options;
  options.port = port;
  options.user = "admin";
  options.password = "adminpw";
  options.tls_mode = net::TlsMode::kRequired;
  auto held = net::BlockingClient::connect(options);
  ASSERT_TRUE(held) << held.error().message();
  ASSERT_TRUE((*held)->async().tls());

  // New certificate files at the same paths, then SIGHUP: new connections get the new certificate.
  std::filesystem::copy_file(second->first, cert, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(second->second, key, std::filesystem::copy_options::overwrite_existing);
  const std::string reloaded_line = "downstream accounts and TLS reloaded";
  (*relay)->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return count_of((*relay)->log(), reloaded_line) == 1; }, 30s))
      << (*relay)->log();
  shake = handshake(port, {"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"});
  ASSERT_TRUE(shake.ok) << shake.output;
  const std::string new_certificate = first_certificate(read_file(second->first).value_or(""));
  ASSERT_FALSE(new_certificate.empty());
  EXPECT_EQ(first_certificate(shake.output), new_certificate);
  EXPECT_NE(first_certificate(shake.output), first_certificate(read_file(certs->server_cert).value_or("")));
  // The session opened before goes on.
  auto answer = (*held)->query("SELECT 1");
  EXPECT_TRUE(answer) << answer.error().message();

  // A key that does not belong to the certificate: the error is logged and the running
  // certificate stays.
  std::filesystem::copy_file(certs->client_key, key, std::filesystem::copy_options::overwrite_existing);
  (*relay)->signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] { return (*relay)->log().find("SIGHUP: keeping the running") != std::string::npos; }, 30s))
      << (*relay)->log();
  shake = handshake(port, {"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"});
  ASSERT_TRUE(shake.ok) << shake.output;
  EXPECT_EQ(first_certificate(shake.output), new_certificate);
  std::filesystem::copy_file(second->second, key, std::filesystem::copy_options::overwrite_existing);

  // tls_ciphers and tls_min_version, applied by a reload.
  config.server_extra += "tls_ciphers = \"ECDHE+CHACHA20\"\n";
  ASSERT_TRUE(write_file((*relay)->config_path(), config.to_toml()));
  (*relay)->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return count_of((*relay)->log(), reloaded_line) == 2; }, 30s))
      << (*relay)->log();
  shake = handshake(port, {"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"});
  EXPECT_FALSE(shake.ok) << shake.output;
  shake = handshake(port, {"-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"});
  EXPECT_TRUE(shake.ok) << shake.output;

  config.server_extra += "tls_min_version = \"TLSv1.3\"\n";
  ASSERT_TRUE(write_file((*relay)->config_path(), config.to_toml()));
  (*relay)->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return count_of((*relay)->log(), reloaded_line) == 3; }, 30s))
      << (*relay)->log();
  shake = handshake(port, {"-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"});
  EXPECT_FALSE(shake.ok) << shake.output;
  shake = handshake(port, {"-tls1_3"});
  EXPECT_TRUE(shake.ok) << shake.output;

  answer = (*held)->query("SELECT 1");
  EXPECT_TRUE(answer) << answer.error().message();
  EXPECT_TRUE((*relay)->running());
}

}  // namespace
}  // namespace brelay::testing
