// XID_EVENT (type 16): the commit of an XA-capable (InnoDB) transaction; body u64 xid.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "relay/binlog/event_header.h"

namespace brelay::binlog {

Result<std::uint64_t> parse_xid(const EventView& event);

// SHOW BINLOG EVENTS Info: "COMMIT /* xid=N */".
std::string xid_info(std::uint64_t xid);

}  // namespace brelay::binlog
