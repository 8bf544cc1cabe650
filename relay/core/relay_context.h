// RelayContext: what the relay's components (upstream, downstream server, admin, metrics endpoint)
// share. The Daemon owns everything it points to and keeps it alive for the whole run. Loop thread
// only, except `store`, `metrics` (thread-safe) and `writer` (its producer calls are the upstream's).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "net/event_loop.h"
#include "relay/core/commit_notifier.h"
#include "relay/core/config.h"
#include "relay/core/metrics.h"
#include "relay/core/source_identity.h"
#include "relay/core/target_hazards.h"
#include "storage/binlog_store.h"
#include "storage/store_writer.h"

namespace brelay::relay {

struct RelayContext {
  net::EventLoop& loop;
  Config& config;  // replaced in part on SIGHUP ([[users]], TLS files, [log])
  storage::BinlogStore& store;
  storage::StoreWriter& writer;
  CommitNotifier& commits;
  MetricsRegistry& metrics;
  std::string server_uuid;  // the relay's own @@server_uuid ([server] server_uuid or kept in the store)
  // The source as last seen (loaded from the store at start; the upstream updates it on connect).
  std::optional<SourceIdentity> source;
  // The relay's status as (name, value) rows (relay_status.h), for SHOW RELAY STATUS; set by the
  // Daemon once every component exists (empty before).
  std::function<std::vector<std::pair<std::string, std::string>>()> status_rows;
  // Transactions flagged as hazards for Azure (GIPK) replicas: the upstream records, dumps hold
  // before unreleased ones ([server] hold_on_hazard), admins release them.
  TargetHazards hazards{};
};

}  // namespace brelay::relay
