#include "relay/app/operator_metrics.h"

#include <chrono>

#include "relay/app/retention_scheduler.h"
#include "relay/checks/certificate_info.h"

namespace brelay::relay {

double source_lag_bytes(const UpstreamStatus& status) {
  if (status.source_file.empty()) return 0.0;
  if (status.source_file != status.received_file) return static_cast<double>(status.source_position);
  return status.source_position > status.received_position
             ? static_cast<double>(status.source_position - status.received_position)
             : 0.0;
}

void register_operator_metrics(MetricsRegistry& metrics, const Config& config,
                               const std::function<const UpstreamStatus*()>& upstream_status) {
  metrics.callback_gauge("binlog_relay_retention_max_bytes",
                         "[storage] retention_size: the store's size limit in bytes (0: unlimited).", {},
                         [&config] { return static_cast<double>(config.storage.retention_size); });
  metrics.callback_gauge(
      "binlog_relay_retention_max_age_seconds",
      "[storage] retention_time: files older than this are purged (0: kept regardless of age).", {},
      [&config] {
        return static_cast<double>(
            std::chrono::duration_cast<std::chrono::seconds>(config.storage.retention_time).count());
      });
  metrics.callback_gauge(
      "binlog_relay_source_lag_bytes",
      "Source binlog bytes not yet received: the gap to the newest source position the stream showed "
      "(at least the newer file's bytes once the source rotated).",
      {}, [upstream_status] {
        const UpstreamStatus* status = upstream_status();
        return status ? source_lag_bytes(*status) : 0.0;
      });
  // Read at each scrape so that a renewed certificate (after a SIGHUP) shows.
  metrics.callback_gauge("binlog_relay_tls_certificate_expiry_timestamp_seconds",
                         "When [server] tls_cert's leaf certificate expires (Unix seconds; 0: no certificate "
                         "configured, -1: it cannot be read).",
                         {}, [&config] {
                           if (config.server.tls_cert.empty()) return 0.0;
                           auto info = inspect_certificate(config.server.tls_cert, config.server.tls_key);
                           return info ? static_cast<double>(info->not_after) : -1.0;
                         });
}

}  // namespace brelay::relay
