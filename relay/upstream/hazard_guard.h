// HazardGuard: the upstream's side of the GIPK hazard guard. Each stored QUERY event's statement
// goes through the GipkHazardTracker; a flagged one becomes a TargetHazard in the RelayContext
// (with where its transaction starts, so that held dumps stop before all of it), a WARN log line
// and binlog_relay_target_hazards_total{kind}. The upstream calls it before it hands the batch to
// the writer, so a hazard is known before any dump can read its transaction. Loop thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/transaction_boundary.h"
#include "relay/core/metrics.h"
#include "relay/core/target_hazards.h"
#include "relay/upstream/gipk_hazard_tracker.h"
#include "relay/upstream/source_setup.h"

namespace brelay::relay {

// Where the transaction of a stored event starts. The GTID is formatted only for a hazard (the
// upstream calls on_stored_event for every stored event).
struct TransactionStart {
  std::string_view file;
  std::uint64_t position = 0;
  const binlog::TransactionGtid* gtid = nullptr;  // null or Kind::kNone when there is none
};

class HazardGuard {
 public:
  HazardGuard(TargetHazards& hazards, MetricsRegistry& metrics);

  // The source's tables as information_schema listed them at connect.
  void seed(const std::vector<SourceTableKey>& keys);
  // A stored event (type byte checked first: only QUERY events are read).
  void on_stored_event(ByteView event, binlog::ChecksumAlgorithm checksum, const TransactionStart& start);

  const GipkHazardTracker& tracker() const { return tracker_; }

 private:
  Counter& counter(HazardKind kind);

  TargetHazards& hazards_;  // not owned (the RelayContext's)
  MetricsRegistry& metrics_;
  GipkHazardTracker tracker_;
};

}  // namespace brelay::relay
