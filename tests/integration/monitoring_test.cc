// Issue 18's monitoring checks against a live relay: a real MariaDB source, the relay (with a TLS
// certificate that expires in 10 days), a real MariaDB replica of the relay, a wrong password
// and a refused connection from 127.0.0.2, and one dump the source ends.
// Then: `promtool check metrics` on the relay's /metrics (naming and type conventions); the
// dashboard's structure and every name its queries use against the scrape; a real `prometheus`
// server (its own port, config and storage in a temporary directory, stopped by pid) scraping the
// relay every second with packaging/monitoring's alert rules loaded: a few series read back through
// /api/v1/query, every dashboard query evaluated there (packaging/monitoring/tests/check_dashboard.py),
// and the certificate alert firing.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "tests/support/mariadb_server.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/raw_mysql_client.h"
#include "tests/support/relay_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tests/support/wait_until.h"

namespace brelay::testing {
namespace {

using namespace std::chrono_literals;

std::string curl(const std::string& url) {
  auto output = run_command({"curl", "--silent", "--show-error", "--fail", "--max-time", "20", url}, {}, 60s);
  if (!output || output->exit_status != 0) return {};
  return output->out;
}

std::string url_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The first sample value of an instant query's answer ("" when it has none).
std::string first_value(const std::string& prometheus, const std::string& expr) {
  const std::string answer = curl(prometheus + "/api/v1/query?query=" + url_encode(expr));
  std::smatch match;
  static const std::regex value(R"re("value":\[[0-9.]+,"([^"]*)"\])re");
  return std::regex_search(answer, match, value) ? match[1].str() : "";
}

class Monitoring : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TlsTestDir::create("monitoring", 10);
    ASSERT_TRUE(dir) << dir.error().message();
    dir_ = std::move(*dir);
    MariaDbOptions source_options;
    source_options.gtid_domain_id = 0;
    auto source = MariaDbServer::start(source_options);
    ASSERT_TRUE(source) << source.error().message();
    source_ = std::move(*source);
    ASSERT_TRUE(
        source_->execute("CREATE DATABASE m; CREATE TABLE m.t (id INT PRIMARY KEY, pad TEXT);"
                         "INSERT INTO m.t VALUES (1, REPEAT('x', 1000)), (2, REPEAT('y', 1000))"));

    metrics_port_ = free_loopback_port().value_or(1);
    relay_port_ = free_loopback_port().value_or(1);
    TestRelayConfig config;
    config.data_dir = dir_->file("relay-data");
    config.source_port = source_->port();
    config.source_extra = "heartbeat_period = \"500ms\"\n";
    config.listen = fmt::format("127.0.0.1:{}", relay_port_);
    config.metrics_listen = fmt::format("127.0.0.1:{}", metrics_port_);
    config.server_extra = fmt::format("tls_cert = \"{}\"\ntls_key = \"{}\"\nmax_connect_errors = 1\n",
                                      dir_->certs().server_cert, dir_->certs().server_key);
    config.log_level = "info";
    auto relay = RelayProcess::start(config);
    ASSERT_TRUE(relay) << relay.error().message();
    relay_ = std::move(*relay);

    MariaDbOptions replica_options;
    replica_options.server_id = 11;
    replica_options.log_bin = false;
    auto replica = MariaDbServer::start(replica_options);
    ASSERT_TRUE(replica) << replica.error().message();
    replica_ = std::move(*replica);
    ASSERT_TRUE(replica_->execute(fmt::format(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', "
        "MASTER_PASSWORD='replpw', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos; START SLAVE",
        relay_port_)));
    ASSERT_TRUE(wait_until(
        [&] {
          auto rows = replica_->query("SELECT COUNT(*) FROM m.t");
          return rows && !rows->empty() && rows->at(0).at(0) == "2";
        },
        60s))
        << "the replica did not get m.t: " << slave_status(*replica_)["Last_IO_Error"];
    // From 127.0.0.2, a wrong password and then a refused connection (max_connect_errors = 1 blocks
    // the host), so that binlog_relay_auth_failures_total and _connections_refused_total have series.
    for (const char* code : {"Access denied", "is blocked"}) {
      auto refused = RawMysqlClient::connect(relay_port_, "repl", "wrong", "127.0.0.2");
      ASSERT_FALSE(refused);
      EXPECT_NE(refused.error().message().find(code), std::string::npos) << refused.error().message();
    }
    metrics_url_ = fmt::format("http://127.0.0.1:{}/metrics", metrics_port_);
    // The source ends the relay's dump once, so that binlog_relay_upstream_errors_total has a series;
    // the relay reconnects.
    auto dumps =
        source_->query("SELECT id FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'");
    ASSERT_TRUE(dumps && !dumps->empty());
    ASSERT_TRUE(source_->execute("KILL " + dumps->at(0).at(0)));
    ASSERT_TRUE(wait_until(
        [&] {
          const std::string scrape = curl(metrics_url_);
          return scrape.find("binlog_relay_upstream_errors_total{") != std::string::npos &&
                 scrape.find("binlog_relay_upstream_connected 1") != std::string::npos;
        },
        60s))
        << curl(metrics_url_);
  }

  // Prometheus on a free port with its own configuration and storage, scraping the relay every second.
  void start_prometheus() {
    const std::uint16_t port = free_loopback_port().value_or(1);
    prometheus_url_ = fmt::format("http://127.0.0.1:{}", port);
    const std::string config_path = dir_->file("prometheus.yml");
    std::ofstream(config_path) << fmt::format(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "rule_files:\n  - {}/packaging/monitoring/binlog-relay-alerts.yml\n"
        "scrape_configs:\n  - job_name: binlog-relay\n    static_configs:\n"
        "      - targets: ['127.0.0.1:{}']\n",
        source_dir(), metrics_port_);
    ProcessOptions options;
    options.argv = {"prometheus", "--config.file=" + config_path,
                    "--storage.tsdb.path=" + dir_->file("prometheus-data"),
                    fmt::format("--web.listen-address=127.0.0.1:{}", port)};
    options.stdout_path = dir_->file("prometheus.log");
    options.stderr_path = dir_->file("prometheus.log");
    options.append_output = true;
    auto process = Process::start(options);
    ASSERT_TRUE(process) << process.error().message();
    prometheus_.emplace(std::move(*process));
    ASSERT_TRUE(wait_until([&] { return first_value(prometheus_url_, "up") == "1"; }, 60s))
        << "prometheus did not scrape the relay: " << curl(prometheus_url_ + "/api/v1/targets");
  }

  std::unique_ptr<TlsTestDir> dir_;
  std::unique_ptr<MariaDbServer> source_;
  std::unique_ptr<MariaDbServer> replica_;
  std::unique_ptr<RelayProcess> relay_;
  std::optional<Process> prometheus_;
  std::uint16_t metrics_port_ = 0;
  std::uint16_t relay_port_ = 0;
  std::string metrics_url_;
  std::string prometheus_url_;
};

TEST_F(Monitoring, PromtoolDashboardAndAPrometheusServerAgreeWithTheLiveRelay) {
  const std::string scrape = curl(metrics_url_);
  ASSERT_NE(scrape.find("binlog_relay_replica_lag_bytes{"), std::string::npos) << scrape;
  for (const char* lazy : {"binlog_relay_auth_failures_total{", "binlog_relay_connections_refused_total{",
                           "binlog_relay_upstream_errors_total{"})
    ASSERT_NE(scrape.find(lazy), std::string::npos) << lazy << "\n" << scrape;
  const std::string scrape_path = dir_->file("scrape.txt");
  std::ofstream(scrape_path) << scrape;

  // promtool's lint: no output and exit 0 when every name and type follows the conventions.
  auto lint = run_command({"promtool", "check", "metrics"}, scrape, 60s);
  ASSERT_TRUE(lint) << lint.error().message();
  EXPECT_EQ(lint->exit_status, 0) << lint->out << lint->err;
  EXPECT_EQ(lint->out + lint->err, "");

  const std::string checker = source_dir() + "/packaging/monitoring/tests/check_dashboard.py";
  const std::string dashboard = source_dir() + "/packaging/monitoring/binlog-relay-dashboard.json";
  auto names = run_command({"python3", checker, "--dashboard", dashboard, "--scrape", scrape_path}, {}, 60s);
  ASSERT_TRUE(names);
  EXPECT_EQ(names->exit_status, 0) << names->out << names->err;

  start_prometheus();
  // A few series read back through Prometheus's HTTP API.
  EXPECT_EQ(first_value(prometheus_url_, "binlog_relay_upstream_connected"), "1");
  EXPECT_EQ(first_value(prometheus_url_, "binlog_relay_store_writer_accepting"), "1");
  EXPECT_EQ(first_value(prometheus_url_, "count(binlog_relay_replica_lag_bytes)"), "1");
  EXPECT_EQ(first_value(prometheus_url_, "binlog_relay_sessions{state=\"dumping\"}"), "1");
  EXPECT_EQ(first_value(prometheus_url_, "binlog_relay_auth_failures_total{reason=\"bad_password\"}"), "1");
  EXPECT_GT(std::atof(first_value(prometheus_url_, "binlog_relay_store_bytes").c_str()), 2000.0);
  const double expiry = std::atof(
      first_value(prometheus_url_, "binlog_relay_tls_certificate_expiry_timestamp_seconds").c_str());
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(expiry, now + 9 * 86400.0);
  EXPECT_LT(expiry, now + 11 * 86400.0);

  // Every dashboard query evaluates; those that must have data have it.
  auto live = run_command(
      {"python3", checker, "--dashboard", dashboard, "--prometheus", prometheus_url_, "--wait", "60"}, {},
      120s);
  ASSERT_TRUE(live);
  EXPECT_EQ(live->exit_status, 0) << live->out << live->err;

  // The rules loaded into the live server: the 10-day certificate fires its alert, nothing else does.
  EXPECT_TRUE(wait_until(
      [&] {
        return first_value(prometheus_url_,
                           "ALERTS{alertname=\"BinlogRelayCertificateExpiresSoon\","
                           "alertstate=\"firing\"}") == "1";
      },
      30s))
      << curl(prometheus_url_ + "/api/v1/alerts");
  EXPECT_EQ(first_value(prometheus_url_, "count(ALERTS)"), "1") << curl(prometheus_url_ + "/api/v1/alerts");

  auto stopped = prometheus_->stop(30s);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 0);
}

}  // namespace
}  // namespace brelay::testing
