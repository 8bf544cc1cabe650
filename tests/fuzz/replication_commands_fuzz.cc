// The replication command decoders (COM_REGISTER_SLAVE, COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID,
// semi-sync acknowledgements, dump packet envelopes with and without semi-sync), chosen by the first
// byte. Whatever decodes must round-trip.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "net/mysql_constants.h"
#include "net/replication_commands.h"

namespace {

using namespace brelay;
using namespace brelay::net;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Bytes payload(data + 1, data + size);
  switch (data[0] % 6) {
    case 0: {
      if (!payload.empty()) payload[0] = command::kRegisterSlave;
      auto c = decode_register_replica(payload);
      if (!c) return 0;
      auto again = decode_register_replica(encode_register_replica(*c));
      check(again.ok() && again->server_id == c->server_id && again->host == c->host &&
            again->user == c->user && again->password == c->password && again->port == c->port);
      break;
    }
    case 1: {
      if (!payload.empty()) payload[0] = command::kBinlogDump;
      auto c = decode_binlog_dump(payload);
      if (!c) return 0;
      check(c->file_name.find('\0') == std::string::npos);
      // The name is cut at its first zero byte (as the servers read it; byte 11 on is the name):
      // what follows is dropped, so the payload comes back whole only when its name had none.
      const Bytes encoded = encode_binlog_dump(*c);
      if (std::find(payload.begin() + std::min<std::size_t>(payload.size(), 11), payload.end(), 0) ==
          payload.end())
        check(encoded == payload);
      auto again = decode_binlog_dump(encoded);
      check(again.ok() && again->file_name == c->file_name && again->position == c->position &&
            again->flags == c->flags && again->server_id == c->server_id);
      break;
    }
    case 2: {
      if (!payload.empty()) payload[0] = command::kBinlogDumpGtid;
      auto c = decode_binlog_dump_gtid(payload);
      if (!c) return 0;
      auto again = decode_binlog_dump_gtid(encode_binlog_dump_gtid(*c));
      check(again.ok() && again->file_name == c->file_name && again->position == c->position &&
            again->gtid_set == c->gtid_set && again->flags == c->flags && again->server_id == c->server_id);
      break;
    }
    case 3:
    case 4: {
      const bool semi_sync = data[0] % 6 == 4;
      auto envelope = decode_dump_envelope(payload, semi_sync);
      if (!envelope) return 0;
      check(envelope->semi_sync == semi_sync && !envelope->event.empty());
      check(envelope->event.data() + envelope->event.size() == payload.data() + payload.size());
      if (semi_sync && (payload[2] & ~kSemiSyncAckRequested) != 0) break;  // flag bits that do not survive
      check(encode_dump_envelope(*envelope) == payload);
      break;
    }
    default: {
      auto ack = decode_semi_sync_ack(payload);
      if (!ack) return 0;
      check(encode_semi_sync_ack(*ack) == payload);
      break;
    }
  }
  return 0;
}
