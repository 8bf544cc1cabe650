// MariaDB's GTID_EVENT (type 162), which opens every event group: u64 seq_no, u32 domain_id,
// u8 flags2; with FL_GROUP_COMMIT_ID a u64 commit id follows, else 6 zero bytes; with the XA flags
// the XID (u32 format id, u8 gtrid length, u8 bqual length, data). Later servers append more
// (flags_extra ...), which the relay passes through unread. The GTID's server id is the event
// header's server_id.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/mariadb_gtid_position.h"

namespace brelay::binlog {

namespace mariadb_gtid_flags {
inline constexpr std::uint8_t kStandalone = 0x01;
inline constexpr std::uint8_t kGroupCommitId = 0x02;
inline constexpr std::uint8_t kTransactional = 0x04;
inline constexpr std::uint8_t kAllowParallel = 0x08;
inline constexpr std::uint8_t kWaited = 0x10;
inline constexpr std::uint8_t kDdl = 0x20;
inline constexpr std::uint8_t kPreparedXa = 0x40;
inline constexpr std::uint8_t kCompletedXa = 0x80;
}  // namespace mariadb_gtid_flags

inline constexpr std::size_t kMariadbGtidPostHeaderSize = 19;

struct MariadbGtidEvent {
  MariadbGtid gtid;
  std::uint8_t flags2 = 0;
  std::uint64_t commit_id = 0;  // 0 unless FL_GROUP_COMMIT_ID

  bool standalone() const { return (flags2 & mariadb_gtid_flags::kStandalone) != 0; }
};

Result<MariadbGtidEvent> parse_mariadb_gtid(const EventView& event);

// SHOW BINLOG EVENTS Info as MariaDB shows it: "BEGIN GTID d-s-n", or "GTID d-s-n" for a
// standalone group (DDL).
std::string mariadb_gtid_info(const MariadbGtidEvent& event);

}  // namespace brelay::binlog
