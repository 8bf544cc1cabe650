#include "relay/downstream/mariadb_compatibility.h"

#include "relay/downstream/dump_request.h"

namespace brelay::relay::downstream {

using binlog::EventType;

bool mariadb_compatibility_needs_gtid(EventType type, int capability) {
  return type == EventType::kMariadbGtid && capability < mariadb_capability::kGtid;
}

MariadbCompatibility mariadb_compatibility(EventType type, int capability, bool send_annotate_rows,
                                           bool standalone_gtid) {
  const bool tolerates_holes = capability >= mariadb_capability::kTolerateHoles;
  if (type == EventType::kAnnotateRows && !send_annotate_rows) {
    if (tolerates_holes) return MariadbCompatibility::kSkip;
    return capability < mariadb_capability::kAnnotate ? MariadbCompatibility::kSendDummy
                                                      : MariadbCompatibility::kSend;
  }
  if (mariadb_compatibility_needs_gtid(type, capability)) {
    if (standalone_gtid && tolerates_holes) return MariadbCompatibility::kSkip;
    return MariadbCompatibility::kSendGtidForOldReplica;
  }
  if ((type == EventType::kBinlogCheckpoint && capability < mariadb_capability::kBinlogCheckpoint) ||
      (type == EventType::kGtidList && capability < mariadb_capability::kGtid)) {
    return tolerates_holes ? MariadbCompatibility::kSkip : MariadbCompatibility::kSendDummy;
  }
  return MariadbCompatibility::kSend;
}

}  // namespace brelay::relay::downstream
