#include "relay/downstream/mariadb_gtid_skipper.h"

#include <algorithm>

#include "common/byte_writer.h"
#include "relay/binlog/checksum.h"
#include "relay/binlog/event_header.h"
#include "relay/downstream/binlog_positioning.h"

namespace brelay::relay::downstream {

Status MariadbGtidSkipper::on_gtid(const binlog::MariadbGtid& gtid) {
  stream_state_.update(gtid);
  const binlog::MariadbGtid* wanted = skip_until_.find(gtid.domain_id);
  if (wanted == nullptr) return {};
  const binlog::MariadbGtid until = *wanted;
  if (gtid.server_id != until.server_id || gtid.seq_no <= until.seq_no) skipping_group_ = true;
  if (gtid.server_id == until.server_id && gtid.seq_no >= until.seq_no) {
    if (strict_mode_ && gtid.seq_no > until.seq_no) {
      return fatal_binlog_error(
          fmt::format("The binlog on the master is missing the GTID {} requested by the slave (even "
                      "though both a prior "
                      "and a subsequent sequence number does exist), and GTID strict mode is enabled",
                      until.to_string()));
    }
    fake_gtid_list_due_ = true;
    binlog::MariadbGtidPosition rest;
    for (const auto& [domain, other] : skip_until_.gtids())
      if (domain != until.domain_id) rest.update(other);
    skip_until_ = rest;
  }
  return {};
}

MariadbGtidSkipper::SkipDecision MariadbGtidSkipper::skip(const binlog::EventBoundary& boundary) {
  SkipDecision decision;
  if (!skipping_group_) return decision;
  decision.skip = true;
  if (boundary.ends_transaction || !boundary.in_transaction) skipping_group_ = false;
  if (!skipping_group_ && fake_gtid_list_due_) {
    decision.fake_gtid_list_after = true;
    fake_gtid_list_due_ = false;
  }
  return decision;
}

bool MariadbGtidSkipper::fake_gtid_list_after_sent(const binlog::EventBoundary&) {
  // MariaDB's send_events sends it after any event once it is due and no group is being skipped:
  // for a group past the replica's GTID (it never skipped one, e.g. a start state with sequence 0)
  // that is right after the group's GTID event.
  if (!fake_gtid_list_due_ || skipping_group_) return false;
  fake_gtid_list_due_ = false;
  return true;
}

Bytes build_fake_gtid_list(std::uint32_t server_id, const std::vector<binlog::MariadbGtid>& gtids,
                           std::uint64_t log_pos, bool with_checksum) {
  ByteWriter body;
  body.u32(static_cast<std::uint32_t>(gtids.size()));
  for (const binlog::MariadbGtid& gtid : gtids)
    body.u32(gtid.domain_id).u32(gtid.server_id).u64(gtid.seq_no);
  binlog::EventHeader header;
  header.type = binlog::EventType::kGtidList;
  header.server_id = server_id;
  header.log_pos = static_cast<std::uint32_t>(log_pos);
  header.flags = binlog::event_flags::kArtificial;
  header.event_size = static_cast<std::uint32_t>(binlog::kEventHeaderSize + body.size() +
                                                 (with_checksum ? binlog::kChecksumSize : 0));
  Bytes event(header.event_size);
  binlog::write_event_header(header, event);
  std::copy(body.data().begin(), body.data().end(), event.begin() + binlog::kEventHeaderSize);
  if (with_checksum) binlog::store_event_checksum(event);
  return event;
}

}  // namespace brelay::relay::downstream
