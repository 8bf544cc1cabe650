// Replication commands as plain structs with encode/decode functions: COM_REGISTER_SLAVE,
// COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID, the envelope of each event of a dump stream, and the
// semi-sync acknowledgement a replica sends while a dump streams. They are protocol, not binlog: the GTID set
// of COM_BINLOG_DUMP_GTID stays opaque bytes here. Encoders include the command byte; decoders take the whole
// payload, command byte first. See ../shared/docs/protocol.md sections 2 and 5.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::net {

// COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID flags.
namespace dump_flag {
inline constexpr std::uint16_t kNonBlock = 0x0001;
inline constexpr std::uint16_t kHeartbeatV2OrAnnotateRows =
    0x0002;  // MySQL heartbeat v2; MariaDB annotate rows
inline constexpr std::uint16_t kThroughGtid = 0x0004;
}  // namespace dump_flag

struct RegisterReplica {
  std::uint32_t server_id = 0;
  std::string host;
  std::string user;
  std::string password;
  std::uint16_t port = 0;
  std::uint32_t replication_rank = 0;
  std::uint32_t master_id = 0;
};

Bytes encode_register_replica(const RegisterReplica& command);
Result<RegisterReplica> decode_register_replica(ByteView payload);

struct BinlogDump {
  std::uint32_t position = 4;
  std::uint16_t flags = 0;
  std::uint32_t server_id = 0;
  std::string file_name;  // empty: the first binlog
};

Bytes encode_binlog_dump(const BinlogDump& command);
Result<BinlogDump> decode_binlog_dump(ByteView payload);

struct BinlogDumpGtid {
  std::uint16_t flags = 0;
  std::uint32_t server_id = 0;
  std::string file_name;  // as sent: MySQL 5.7 sends NUL bytes here; see has_file_name()
  std::uint64_t position = 4;
  Bytes gtid_set;  // the encoded GTID set (the PREVIOUS_GTIDS body layout), opaque here

  // A name whose first byte is not NUL picks the start file instead of the GTID search.
  bool has_file_name() const { return !file_name.empty() && file_name[0] != '\0'; }
};

Bytes encode_binlog_dump_gtid(const BinlogDumpGtid& command);
Result<BinlogDumpGtid> decode_binlog_dump_gtid(ByteView payload);

// Semi-sync: the master's packet prefix and the replica's acknowledgement.
inline constexpr std::uint8_t kSemiSyncIndicator = 0xef;
inline constexpr std::uint8_t kSemiSyncAckRequested = 0x01;

// The envelope of one event in a dump stream (protocol.md sections 3 and 5): 0x00, then, when
// semi-sync is on for the dump, 0xEF and a flag byte (kSemiSyncAckRequested: the master asks for
// an acknowledgement of this event), then the raw event. Both sides must agree on semi_sync: it
// was settled before the dump (@rpl_semi_sync_slave), the envelope does not say.
struct DumpEnvelope {
  bool semi_sync = false;
  bool ack_requested = false;  // only with semi_sync
  ByteView event;              // borrowed: a view into the decoded payload, or the caller's bytes
};

// The bytes before the event, kept apart so that a gather write can send the event from where it
// is (PacketBatch::add(prefix, event)).
struct DumpEnvelopePrefix {
  static constexpr std::size_t kMaxSize = 3;
  std::array<std::uint8_t, kMaxSize> bytes{};
  std::size_t size = 0;
  ByteView view() const { return ByteView(bytes.data(), size); }
};

DumpEnvelopePrefix encode_dump_envelope_prefix(bool semi_sync, bool ack_requested);
// The whole payload: the prefix, then the event.
Bytes encode_dump_envelope(const DumpEnvelope& envelope);
// Splits a dump packet's payload; `semi_sync` says whether the dump runs with semi-sync. An error
// for a payload without the prefix or without an event after it. The result's event is a view
// into `payload`.
Result<DumpEnvelope> decode_dump_envelope(ByteView payload, bool semi_sync);

struct SemiSyncAck {
  std::uint64_t position = 0;  // end position of the acknowledged event
  std::string file_name;
};

// The acknowledgement packet (sent with sequence id 0): 0xEF, u64 position, file name.
Bytes encode_semi_sync_ack(const SemiSyncAck& ack);
Result<SemiSyncAck> decode_semi_sync_ack(ByteView payload);

}  // namespace brelay::net
