#include "relay/binlog/mariadb_gtid_event.h"

#include "common/byte_reader.h"

namespace brelay::binlog {

Result<MariadbGtidEvent> parse_mariadb_gtid(const EventView& event) {
  if (event.header.type != EventType::kMariadbGtid) {
    return make_error("expected a MariaDB Gtid event, got {}", event_type_name(event.header.type));
  }
  ByteReader reader(event.body);
  MariadbGtidEvent gtid;
  BRELAY_ASSIGN_OR_RETURN(gtid.gtid.seq_no, reader.u64("Gtid seq_no"));
  BRELAY_ASSIGN_OR_RETURN(gtid.gtid.domain_id, reader.u32("Gtid domain_id"));
  BRELAY_ASSIGN_OR_RETURN(gtid.flags2, reader.u8("Gtid flags2"));
  gtid.gtid.server_id = event.header.server_id;
  if ((gtid.flags2 & mariadb_gtid_flags::kGroupCommitId) != 0) {
    BRELAY_ASSIGN_OR_RETURN(gtid.commit_id, reader.u64("Gtid commit_id"));
  } else {
    BRELAY_TRY(reader.skip(6, "Gtid padding"));
  }
  return gtid;
}

std::string mariadb_gtid_info(const MariadbGtidEvent& event) {
  if (event.standalone()) return fmt::format("GTID {}", event.gtid.to_string());
  return fmt::format("BEGIN GTID {}", event.gtid.to_string());
}

}  // namespace brelay::binlog
