// What a dump sends besides the stored events, decided without a socket or a clock (the session
// passes the elapsed time): heartbeats (protocol.md section 3: v1, or v2 for a MySQL replica that
// asked with flag 0x02; every heartbeat period while idle, never between a ROTATE and the next
// file's FDE (MDEV-29981), and while a stretch of groups is skipped) and the semi-sync request for
// an acknowledgement (section 5: at the end of each transaction). Pure; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "relay/binlog/transaction_boundary.h"

namespace brelay::relay::downstream {

class HeartbeatPolicy {
 public:
  // `period`: the replica's @master_heartbeat_period (0: no heartbeats).
  explicit HeartbeatPolicy(std::chrono::nanoseconds period) : period_(period) {}

  bool enabled() const { return period_.count() > 0; }
  // While groups are skipped: the position goes out when a period passed since the last send.
  bool due_while_skipping(std::chrono::steady_clock::duration since_last_send) const {
    return enabled() && since_last_send >= period_;
  }
  // While waiting at the durable end (the timer runs only when enabled()): a period passed and the
  // last event sent is not a ROTATE whose next file's FDE has not gone out yet.
  bool due_while_idle(std::chrono::steady_clock::duration since_last_send, bool last_sent_rotate) const {
    return since_last_send >= period_ && !last_sent_rotate;
  }
  // How long the idle timer waits from now: what is left of the period, at least 1 ms.
  std::chrono::milliseconds idle_delay(std::chrono::steady_clock::duration since_last_send) const;

 private:
  std::chrono::nanoseconds period_;
};

// A heartbeat for `file` at `position`: v2 (type 41) or v1 (type 27), with a CRC when the binlog
// has them.
Bytes build_dump_heartbeat(bool v2, std::uint32_t server_id, std::string_view file, std::uint64_t position,
                           bool with_checksum);

// Whether a semi-sync dump asks for an acknowledgement of this event: it ends a transaction.
inline bool semi_sync_ack_requested(bool semi_sync, const binlog::EventBoundary& boundary) {
  return semi_sync && boundary.ends_transaction;
}

}  // namespace brelay::relay::downstream
