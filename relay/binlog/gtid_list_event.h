// MariaDB's GTID_LIST_EVENT (163), written after the FDE of every file: the binlog state when
// the file began (u32 count whose low 28 bits count entries and top 4 bits are flags, then per
// entry u32 domain_id, u32 server_id, u64 seq_no). And BINLOG_CHECKPOINT_EVENT (161): u32 name
// length + the name of the oldest file still needed for crash recovery.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/mariadb_gtid_position.h"

namespace brelay::binlog {

struct GtidListEvent {
  std::vector<MariadbGtid> gtids;
  std::uint8_t flags = 0;  // top 4 bits of the count
};

Result<GtidListEvent> parse_gtid_list(const EventView& event);
// SHOW BINLOG EVENTS Info: "[0-1-1,1-2-5]".
std::string gtid_list_info(const GtidListEvent& list);

// The file name of a BINLOG_CHECKPOINT event (a view into the event's bytes).
Result<std::string_view> parse_binlog_checkpoint(const EventView& event);

}  // namespace brelay::binlog
