#include "relay/upstream/hazard_guard.h"

#include <spdlog/spdlog.h>

#include "common/cut_for_log.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/event_types.h"
#include "relay/binlog/query_event.h"

namespace brelay::relay {

HazardGuard::HazardGuard(TargetHazards& hazards, MetricsRegistry& metrics)
    : hazards_(hazards), metrics_(metrics) {
  // Every kind is exported from the start (0 until flagged), so alert rules see the series.
  for (HazardKind kind :
       {HazardKind::kAddPrimaryKey, HazardKind::kAutoIncrementKey, HazardKind::kPartitionedWithoutKey})
    (void)counter(kind);
}

Counter& HazardGuard::counter(HazardKind kind) {
  return metrics_.counter("binlog_relay_target_hazards_total",
                          "Transactions flagged as hazards for Azure replicas with invisible primary keys "
                          "(GIPK), by kind",
                          {{"kind", std::string(to_string(kind))}});
}

void HazardGuard::seed(const std::vector<SourceTableKey>& keys) {
  for (const SourceTableKey& key : keys)
    tracker_.seed(key.schema, key.table, key.primary_key);
}

void HazardGuard::on_stored_event(ByteView event, binlog::ChecksumAlgorithm checksum,
                                  const TransactionStart& start) {
  if (event.size() <= binlog::kTypeOffset ||
      binlog::event_type(event[binlog::kTypeOffset]) != binlog::EventType::kQuery)
    return;
  auto view = binlog::view_event(event, checksum);
  if (!view) return;
  auto query = binlog::parse_query(*view);
  if (!query || query->error_code != 0) return;
  for (GipkHazardTracker::Flag& flag : tracker_.on_statement(query->schema, query->query)) {
    TargetHazard hazard;
    hazard.kind = flag.kind;
    hazard.table = std::move(flag.table);
    hazard.file = std::string(start.file);
    hazard.position = start.position;
    hazard.gtid = start.gtid != nullptr ? start.gtid->to_string() : std::string();
    hazard.event_timestamp = view->header.timestamp;
    hazard.statement = cut_for_log(query->query);
    spdlog::warn("target hazard: {} (statement: {})", hazard.describe(), hazard.statement);
    counter(flag.kind).add(1);
    hazards_.record(std::move(hazard));
  }
}

}  // namespace brelay::relay
