// Series the Grafana dashboard and the alert rules of packaging/monitoring/ need beside the ones the
// layers record themselves: the retention limits ([storage] retention_size / retention_time), the
// relay's own TLS certificate's expiry ([server] tls_cert) and how many bytes the stream is behind
// the source. All are read when /metrics is rendered (the loop thread), from the daemon's current
// configuration (so a SIGHUP reload shows) and the upstream's status.
#pragma once

#include <functional>

#include "relay/core/config.h"
#include "relay/core/metrics.h"
#include "relay/upstream/upstream_status.h"

namespace brelay::relay {

// `config` and whatever `upstream_status` returns (nullptr while there is no upstream) must outlive
// `metrics`' rendering.
void register_operator_metrics(MetricsRegistry& metrics, const Config& config,
                               const std::function<const UpstreamStatus*()>& upstream_status);

// Bytes the stream is behind the newest source position it showed: the gap within one file, or,
// once the source has moved to a newer file, at least that file's bytes so far.
double source_lag_bytes(const UpstreamStatus& status);

}  // namespace brelay::relay
