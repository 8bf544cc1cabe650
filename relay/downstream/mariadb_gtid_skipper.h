// MariadbGtidSkipper: the per-event decision of a MariaDB dump positioned by @slave_connect_state
// (protocol.md section 3; MariaDB's mysql_binlog_send with a GTID start state). Such a dump starts
// at the beginning of a file, so each domain's groups are skipped up to and including the replica's
// last GTID in that domain; once a domain reaches its GTID, a fake GTID_LIST carrying
// the binlog state at that point follows the skipped group, or the GTID event of the first group
// sent past it (artificial, so the replica does not count it), as MariaDB's send_events does.
// With GTID strict mode, a replica GTID missing between a lower and a higher sequence number of the
// same server is an error. The skipper also keeps the stream's binlog state (the file's GTID_LIST,
// then every GTID sent or skipped) for that fake GTID_LIST.
// Pure (no I/O); one per dump, loop thread.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "relay/binlog/mariadb_gtid_position.h"
#include "relay/binlog/transaction_boundary.h"
#include "relay/downstream/stored_gtid_state.h"

namespace brelay::relay::downstream {

class MariadbGtidSkipper {
 public:
  // `skip_until`: per domain, the last GTID the replica has (empty: skip nothing).
  MariadbGtidSkipper(binlog::MariadbGtidPosition skip_until, bool strict_mode)
      : skip_until_(std::move(skip_until)), strict_mode_(strict_mode) {}

  // A file begins; `previous` is its GTID_LIST (the binlog state before it).
  void begin_file(const std::vector<binlog::MariadbGtid>& previous) { stream_state_.load(previous); }
  // A MariaDB GTID event begins a group. An error (ERR 1236 and MariaDB's text) when strict mode
  // finds the replica's GTID missing from the binlog.
  Status on_gtid(const binlog::MariadbGtid& gtid);

  struct SkipDecision {
    bool skip = false;
    bool fake_gtid_list_after = false;  // the skipped group ended: the fake GTID_LIST goes out now
  };
  // Before an event is sent: whether it belongs to a group being skipped. `boundary`: the event's
  // place in its transaction.
  SkipDecision skip(const binlog::EventBoundary& boundary);
  // After an event was sent: whether the fake GTID_LIST follows it now (the replica's GTID was
  // reached and no group is being skipped: after the GTID event of the first group past it).
  bool fake_gtid_list_after_sent(const binlog::EventBoundary& boundary);

  // Whether the decisions still need the events' transaction boundaries.
  bool needs_boundaries() const { return !skip_until_.empty() || skipping_group_ || fake_gtid_list_due_; }
  // Whether some domain still has groups to skip (the files' FDEs then go out with `created` 0).
  bool skipping_to_start() const { return !skip_until_.empty(); }
  // The fake GTID_LIST's entries: the stream's binlog state.
  std::vector<binlog::MariadbGtid> fake_gtid_list() const { return stream_state_.as_list(); }

 private:
  binlog::MariadbGtidPosition skip_until_;
  bool strict_mode_ = false;
  bool skipping_group_ = false;
  bool fake_gtid_list_due_ = false;
  MariadbBinlogState stream_state_;
};

// The fake GTID_LIST a MariaDB master sends once the replica's start is reached: artificial, with
// log_pos `log_pos` and the given entries.
Bytes build_fake_gtid_list(std::uint32_t server_id, const std::vector<binlog::MariadbGtid>& gtids,
                           std::uint64_t log_pos, bool with_checksum);

}  // namespace brelay::relay::downstream
