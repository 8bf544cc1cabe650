// The running relay's HTTP endpoint, scraped with curl and read as Prometheus text, and the example
// configuration packaging/binlog-relay.toml starting the daemon (its data_dir, listen addresses
// and source port pointed at a temporary directory and free loopback ports) and stopping cleanly.
#include <gtest/gtest.h>

#include <regex>

#include "relay/app/version.h"
#include "relay/binlog/binlog_file.h"
#include "storage/binlog_store.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/prometheus_text.h"
#include "tests/support/relay_process.h"
#include "tests/support/store_seed.h"
#include "tests/support/temp_dir.h"

namespace brelay::testing {
namespace {

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// GET (or another method) with the real curl; the status and Content-Type come from -w.
HttpReply curl(const std::string& url, const std::string& method = "GET") {
  std::vector<std::string> argv = {
      "curl", "--silent", "--show-error", "--max-time", "20", "--write-out", "\n%{http_code} %{content_type}",
      url};
  // curl --request HEAD would wait for the body its Content-Length announces; --head does not.
  if (method == "HEAD") {
    argv.push_back("--head");
  } else {
    argv.insert(argv.end(), {"--request", method});
  }
  auto output = run_command(argv, {}, std::chrono::seconds(60));
  EXPECT_TRUE(output) << output.error().message();
  if (!output) return {};
  EXPECT_EQ(output->exit_status, 0) << output->err;
  HttpReply reply;
  const std::size_t last = output->out.rfind('\n');
  if (last == std::string::npos) return reply;
  reply.body = output->out.substr(0, last);
  const std::string trailer = output->out.substr(last + 1);
  reply.status = std::atoi(trailer.c_str());
  reply.content_type = trailer.substr(trailer.find(' ') + 1);
  return reply;
}

TEST(DaemonMetrics, ScrapedMetricsAreValidPrometheusTextAndDescribeTheStore) {
  auto dir = TempDir::create("daemon-metrics");
  ASSERT_TRUE(dir);
  // A store holding two real binlogs before the relay starts.
  const std::vector<std::string> binlogs = {
      source_dir() + "/tests/data/binlogs/apecloud-mysql57-gtid-row.000080",
      source_dir() + "/tests/data/binlogs/rust-mysql-common-mariadb105-gtid-row.000001"};
  std::uint64_t stored_bytes = 0;
  {
    auto store = storage::BinlogStore::open(dir->file("data"));
    ASSERT_TRUE(store) << store.error().message();
    ASSERT_TRUE(seed_store_from_binlogs(**store, binlogs));
    for (const auto& path : binlogs)
      stored_bytes += read_file(path)->size() - 4;
  }
  auto first_event = binlog::BinlogFileReader::open(binlogs[0]);
  ASSERT_TRUE(first_event);
  auto fde = first_event->next();
  ASSERT_TRUE(fde && *fde);
  const double oldest_timestamp = (**fde)[0] | ((**fde)[1] << 8) | ((**fde)[2] << 16) | ((**fde)[3] << 24);

  TestRelayConfig config;
  config.data_dir = dir->file("data");
  config.source_port = free_loopback_port().value_or(1);
  const std::uint16_t metrics_port = free_loopback_port().value_or(1);
  config.metrics_listen = fmt::format("127.0.0.1:{}", metrics_port);
  auto relay = RelayProcess::start(config);
  ASSERT_TRUE(relay) << relay.error().message();
  const std::string base = fmt::format("http://127.0.0.1:{}", metrics_port);

  HttpReply metrics = curl(base + "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body << (*relay)->log();
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  auto scrape = parse_prometheus_text(metrics.body);
  ASSERT_TRUE(scrape) << scrape.error().message() << "\n" << metrics.body;
  EXPECT_EQ(scrape->value("binlog_relay_store_bytes"), static_cast<double>(stored_bytes));
  EXPECT_EQ(scrape->value("binlog_relay_store_files"), 2.0);
  EXPECT_EQ(scrape->value("binlog_relay_store_oldest_event_timestamp_seconds"), oldest_timestamp);
  EXPECT_EQ(scrape->value("binlog_relay_store_writer_accepting"), 1.0);
  EXPECT_EQ(scrape->value("binlog_relay_store_commits_total"), 0.0);
  EXPECT_EQ(scrape->families.at("binlog_relay_store_fsync_seconds").type, "histogram");
  EXPECT_EQ(scrape->families.at("binlog_relay_store_commit_seconds").type, "histogram");
  EXPECT_EQ(scrape->value("binlog_relay_build_info", {{"version", brelay::kVersion}}), 1.0);
  EXPECT_GT(*scrape->value("binlog_relay_start_time_seconds"), 1.7e9);

  // The source is not reachable, but the stored binlogs are served: healthy, with the reason.
  HttpReply health = curl(base + "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body.rfind("ok: not pulling from the source (the upstream is", 0), 0u) << health.body;
  EXPECT_NE(health.body.find("connection refused"), std::string::npos) << health.body;
  EXPECT_NE(health.body.find("serving replicas"), std::string::npos) << health.body;
  EXPECT_EQ(curl(base + "/nothing").status, 404);
  EXPECT_EQ(curl(base + "/metrics", "POST").status, 405);
  EXPECT_EQ(curl(base + "/metrics", "HEAD").status, 200);

  auto status = (*relay)->stop();
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << (*relay)->log();
  EXPECT_NE((*relay)->log().find("metrics and health at http://127.0.0.1:" + std::to_string(metrics_port)),
            std::string::npos)
      << (*relay)->log();
}

TEST(DaemonMetrics, AMetricsAddressInUseStopsTheStartWithTheKey) {
  auto dir = TempDir::create("daemon-metrics");
  ASSERT_TRUE(dir);
  TestRelayConfig first;
  first.data_dir = dir->file("first");
  first.source_port = free_loopback_port().value_or(1);
  first.metrics_listen = fmt::format("127.0.0.1:{}", free_loopback_port().value_or(1));
  auto running = RelayProcess::start(first);
  ASSERT_TRUE(running) << running.error().message();
  TestRelayConfig second = first;
  second.data_dir = dir->file("second");
  auto refused = RelayProcess::start(second);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("[metrics] listen"), std::string::npos)
      << refused.error().message();
}

// packaging/binlog-relay.toml with the machine-specific values replaced, everything else as shipped.
std::string localized_example_config(const TempDir& dir, std::uint16_t server_port,
                                     std::uint16_t metrics_port, std::uint16_t source_port) {
  auto example = read_file(source_dir() + "/packaging/binlog-relay.toml");
  EXPECT_TRUE(example) << example.error().message();
  std::string text = example.value_or("");
  auto replace_line = [&](const std::string& key_pattern, const std::string& replacement) {
    const std::regex line("(^|\n)" + key_pattern + " *=[^\n]*");
    EXPECT_TRUE(std::regex_search(text, line)) << key_pattern;
    text = std::regex_replace(text, line, "$1" + replacement, std::regex_constants::format_first_only);
  };
  replace_line("data_dir", fmt::format("data_dir = \"{}\"", dir.file("data")));
  replace_line("port", fmt::format("port = {}", source_port));
  replace_line("listen", fmt::format("listen = \"127.0.0.1:{}\"", server_port));
  // The second listen is [metrics]'.
  const std::size_t metrics = text.find("[metrics]");
  EXPECT_NE(metrics, std::string::npos);
  std::string tail = text.substr(metrics);
  tail = std::regex_replace(tail, std::regex("listen *=[^\n]*"),
                            fmt::format("listen = \"127.0.0.1:{}\"", metrics_port),
                            std::regex_constants::format_first_only);
  return text.substr(0, metrics) + tail;
}

TEST(ExampleConfig, StartsTheDaemonAndStopsCleanly) {
  auto dir = TempDir::create("example-config");
  ASSERT_TRUE(dir);
  const std::uint16_t metrics_port = free_loopback_port().value_or(1);
  const std::string config = localized_example_config(*dir, free_loopback_port().value_or(1), metrics_port,
                                                      free_loopback_port().value_or(1));
  ASSERT_TRUE(write_file(dir->file("binlog-relay.toml"), config));

  auto check = run_command(
      {binlog_relay_path(), "check", "--config", dir->file("binlog-relay.toml"), "--config-only"});
  ASSERT_TRUE(check);
  EXPECT_NE(check->out.find("OK    config:"), std::string::npos) << check->out << check->err;

  auto relay = RelayProcess::launch(dir->file("binlog-relay.toml"));
  ASSERT_TRUE(relay) << relay.error().message();
  auto ready = (*relay)->wait_for_notification("READY=1", std::chrono::seconds(60));
  ASSERT_TRUE(ready) << ready.error().message() << "\n" << (*relay)->log();
  EXPECT_EQ(curl(fmt::format("http://127.0.0.1:{}/metrics", metrics_port)).status, 200);
  auto status = (*relay)->stop();
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << (*relay)->log();
  EXPECT_NE((*relay)->log().find("binlog-relay stopped"), std::string::npos) << (*relay)->log();
}

}  // namespace
}  // namespace brelay::testing
