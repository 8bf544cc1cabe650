#include "relay/downstream/mysql_gtid_skipper.h"

namespace brelay::relay::downstream {

MysqlGtidSkipper::Decision MysqlGtidSkipper::decide(binlog::EventType type, const binlog::Gtid* gtid,
                                                    std::uint64_t next_position) {
  Decision decision;
  if (type == binlog::EventType::kAnonymousGtid) {
    decision.verdict = Verdict::kAnonymousRefused;
    return decision;
  }
  if (needs_gtid(type)) {
    in_skipped_group_ = gtid != nullptr && replica_gtids_.contains(*gtid);
  } else if (type == binlog::EventType::kRotate) {
    in_skipped_group_ = false;
  }
  if (in_skipped_group_) {
    unannounced_end_ = next_position;
    decision.verdict = Verdict::kSkip;
    return decision;
  }
  decision.announce_before = unannounced_end_;
  unannounced_end_ = 0;
  return decision;
}

}  // namespace brelay::relay::downstream
