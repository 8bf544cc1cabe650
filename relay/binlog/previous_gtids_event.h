// PREVIOUS_GTIDS_EVENT (type 35): the GTID set executed before the file began, encoded as in
// GtidSet::decode. The relay keeps it per file as the file's "previous GTID set".
#pragma once

#include "common/result.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/gtid_set.h"

namespace brelay::binlog {

Result<GtidSet> parse_previous_gtids(const EventView& event);

}  // namespace brelay::binlog
