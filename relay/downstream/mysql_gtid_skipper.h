// MysqlGtidSkipper: the per-event decision of a MySQL auto-positioned dump (COM_BINLOG_DUMP_GTID,
// protocol.md section 3; MySQL's Binlog_sender::skip_event): every group whose GTID the replica
// already has is skipped, from its GTID event up to the next GTID event; a ROTATE is never skipped
// and ends a group; an anonymous transaction cannot be served. It remembers where a skipped stretch
// ends: the dump announces that position with a heartbeat before the next event it sends (or at the
// durable end), so that the replica's position stays contiguous with the bytes it gets.
// Pure (no I/O, no clock); one per dump, loop thread.
#pragma once

#include <cstdint>

#include "relay/binlog/event_types.h"
#include "relay/binlog/gtid.h"
#include "relay/binlog/gtid_set.h"

namespace brelay::relay::downstream {

class MysqlGtidSkipper {
 public:
  // `replica_gtids`: the set the replica sent (not owned; the dump's request outlives the skipper).
  explicit MysqlGtidSkipper(const binlog::GtidSet& replica_gtids) : replica_gtids_(replica_gtids) {}

  enum class Verdict {
    kSend,
    kSkip,              // the event belongs to a group the replica has
    kAnonymousRefused,  // an anonymous transaction: the dump must end with an error
  };
  struct Decision {
    Verdict verdict = Verdict::kSend;
    // kSend only: a skipped stretch ended here (not yet announced); send a heartbeat for this
    // position before the event. 0: none.
    std::uint64_t announce_before = 0;
  };

  // Whether decide() needs the GTID of an event of `type` (GTID and tagged GTID events).
  static bool needs_gtid(binlog::EventType type) {
    return type == binlog::EventType::kGtid || type == binlog::EventType::kGtidTagged;
  }
  // Decides for one event, which ends at `next_position`. `gtid`: the event's GTID when
  // needs_gtid(type), else ignored.
  Decision decide(binlog::EventType type, const binlog::Gtid* gtid, std::uint64_t next_position);

  // Where the skipped stretch not yet announced ends (0: none).
  std::uint64_t unannounced_end() const { return unannounced_end_; }
  // The caller sent a heartbeat for unannounced_end() (or past it).
  void announced() { unannounced_end_ = 0; }

 private:
  const binlog::GtidSet& replica_gtids_;
  bool in_skipped_group_ = false;
  std::uint64_t unannounced_end_ = 0;
};

}  // namespace brelay::relay::downstream
