#include "relay/app/operator_metrics.h"

#include <gtest/gtest.h>

namespace brelay::relay {
namespace {

TEST(SourceLagBytes, IsTheGapInOneFileAndTheNewerFilesBytesAfterARotation) {
  UpstreamStatus status;
  EXPECT_EQ(source_lag_bytes(status), 0.0);  // nothing seen yet
  status.source_file = "mysql-bin.000003";
  status.source_position = 5000;
  status.received_file = "mysql-bin.000003";
  status.received_position = 4200;
  EXPECT_EQ(source_lag_bytes(status), 800.0);
  status.received_position = 5000;
  EXPECT_EQ(source_lag_bytes(status), 0.0);
  status.source_file = "mysql-bin.000004";
  status.source_position = 1234;
  EXPECT_EQ(source_lag_bytes(status), 1234.0);
}

std::string line_of(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

TEST(OperatorMetrics, ReadTheCurrentConfigurationAndUpstreamAtEachRender) {
  Config config;
  config.storage.retention_size = 1000;
  config.storage.retention_time = std::chrono::hours(2);
  UpstreamStatus status;
  status.source_file = status.received_file = "b.000001";
  status.source_position = 900;
  status.received_position = 400;
  const UpstreamStatus* upstream = nullptr;
  MetricsRegistry metrics;
  register_operator_metrics(metrics, config, [&] { return upstream; });

  std::string text = metrics.render();
  EXPECT_EQ(line_of(text, "binlog_relay_retention_max_bytes"), "binlog_relay_retention_max_bytes 1000");
  EXPECT_EQ(line_of(text, "binlog_relay_retention_max_age_seconds"),
            "binlog_relay_retention_max_age_seconds 7200");
  EXPECT_EQ(line_of(text, "binlog_relay_source_lag_bytes"), "binlog_relay_source_lag_bytes 0");
  EXPECT_EQ(line_of(text, "binlog_relay_tls_certificate_expiry_timestamp_seconds"),
            "binlog_relay_tls_certificate_expiry_timestamp_seconds 0");

  // A reload (SIGHUP) changes the configuration; the upstream starts.
  config.storage.retention_size = 0;
  config.server.tls_cert = "/nonexistent/cert.pem";
  config.server.tls_key = "/nonexistent/key.pem";
  upstream = &status;
  text = metrics.render();
  EXPECT_EQ(line_of(text, "binlog_relay_retention_max_bytes"), "binlog_relay_retention_max_bytes 0");
  EXPECT_EQ(line_of(text, "binlog_relay_source_lag_bytes"), "binlog_relay_source_lag_bytes 500");
  EXPECT_EQ(line_of(text, "binlog_relay_tls_certificate_expiry_timestamp_seconds"),
            "binlog_relay_tls_certificate_expiry_timestamp_seconds -1");
}

}  // namespace
}  // namespace brelay::relay
