// The binlog event type codes of MySQL (1-42) and MariaDB (160-171), and the names the servers
// show for them in SHOW BINLOG EVENTS. Any code not listed here is still a valid event that the
// relay stores and serves untouched; it just has no name ("Unknown_<code>").
#pragma once

#include <cstdint>
#include <string_view>

namespace brelay::binlog {

enum class EventType : std::uint8_t {
  kUnknown = 0,
  kStart_v3 = 1,
  kQuery = 2,
  kStop = 3,
  kRotate = 4,
  kIntvar = 5,
  kLoad = 6,
  kSlave = 7,
  kCreateFile = 8,
  kAppendBlock = 9,
  kExecLoad = 10,
  kDeleteFile = 11,
  kNewLoad = 12,
  kRand = 13,
  kUserVar = 14,
  kFormatDescription = 15,
  kXid = 16,
  kBeginLoadQuery = 17,
  kExecuteLoadQuery = 18,
  kTableMap = 19,
  kPreGaWriteRows = 20,
  kPreGaUpdateRows = 21,
  kPreGaDeleteRows = 22,
  kWriteRowsV1 = 23,
  kUpdateRowsV1 = 24,
  kDeleteRowsV1 = 25,
  kIncident = 26,
  kHeartbeat = 27,
  kIgnorable = 28,
  kRowsQuery = 29,
  kWriteRows = 30,
  kUpdateRows = 31,
  kDeleteRows = 32,
  kGtid = 33,
  kAnonymousGtid = 34,
  kPreviousGtids = 35,
  kTransactionContext = 36,
  kViewChange = 37,
  kXaPrepare = 38,
  kPartialUpdateRows = 39,
  kTransactionPayload = 40,
  kHeartbeatV2 = 41,
  kGtidTagged = 42,
  // MariaDB
  kAnnotateRows = 160,
  kBinlogCheckpoint = 161,
  kMariadbGtid = 162,
  kGtidList = 163,
  kStartEncryption = 164,
  kQueryCompressed = 165,
  kWriteRowsCompressedV1 = 166,
  kUpdateRowsCompressedV1 = 167,
  kDeleteRowsCompressedV1 = 168,
  kWriteRowsCompressed = 169,
  kUpdateRowsCompressed = 170,
  kDeleteRowsCompressed = 171,
};

constexpr EventType event_type(std::uint8_t code) {
  return static_cast<EventType>(code);
}
constexpr std::uint8_t type_code(EventType type) {
  return static_cast<std::uint8_t>(type);
}

// The Event_type column of SHOW BINLOG EVENTS ("Query", "Format_desc", "Gtid", ...). For codes
// neither server defines: "Unknown". Never allocates.
std::string_view event_type_name(EventType type);

// True for the row events of either flavour (v1, v2, partial update, MariaDB compressed).
bool is_rows_event(EventType type);

}  // namespace brelay::binlog
