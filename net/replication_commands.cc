#include "net/replication_commands.h"

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "net/mysql_constants.h"

namespace brelay::net {
namespace {

Status expect_command(ByteReader& r, std::uint8_t expected, std::string_view name) {
  BRELAY_ASSIGN_OR_RETURN(auto code, r.u8("command"));
  if (code != expected) return make_error("not a {} packet: command byte 0x{:02x}", name, code);
  return {};
}

Result<std::string> short_text(ByteReader& r, std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(auto length, r.u8(field));
  BRELAY_ASSIGN_OR_RETURN(auto text, r.text(length, field));
  return std::string(text);
}

void write_short_text(ByteWriter& w, const std::string& text) {
  const std::size_t length = std::min<std::size_t>(text.size(), 255);
  w.u8(static_cast<std::uint8_t>(length)).text(std::string_view(text).substr(0, length));
}

}  // namespace

Bytes encode_register_replica(const RegisterReplica& c) {
  ByteWriter w;
  w.u8(command::kRegisterSlave).u32(c.server_id);
  write_short_text(w, c.host);
  write_short_text(w, c.user);
  write_short_text(w, c.password);
  w.u16(c.port).u32(c.replication_rank).u32(c.master_id);
  return std::move(w).take();
}

Result<RegisterReplica> decode_register_replica(ByteView payload) {
  ByteReader r(payload);
  BRELAY_TRY(expect_command(r, command::kRegisterSlave, "COM_REGISTER_SLAVE"));
  RegisterReplica c;
  BRELAY_ASSIGN_OR_RETURN(c.server_id, r.u32("COM_REGISTER_SLAVE server id"));
  BRELAY_ASSIGN_OR_RETURN(c.host, short_text(r, "COM_REGISTER_SLAVE host"));
  BRELAY_ASSIGN_OR_RETURN(c.user, short_text(r, "COM_REGISTER_SLAVE user"));
  BRELAY_ASSIGN_OR_RETURN(c.password, short_text(r, "COM_REGISTER_SLAVE password"));
  BRELAY_ASSIGN_OR_RETURN(c.port, r.u16("COM_REGISTER_SLAVE port"));
  // Rank and master id are ignored by every server; old clients may leave them out.
  if (r.remaining() >= 4) {
    BRELAY_ASSIGN_OR_RETURN(c.replication_rank, r.u32("COM_REGISTER_SLAVE rank"));
  }
  if (r.remaining() >= 4) {
    BRELAY_ASSIGN_OR_RETURN(c.master_id, r.u32("COM_REGISTER_SLAVE master id"));
  }
  BRELAY_TRY(r.expect_end("COM_REGISTER_SLAVE"));
  return c;
}

Bytes encode_binlog_dump(const BinlogDump& c) {
  ByteWriter w;
  w.u8(command::kBinlogDump).u32(c.position).u16(c.flags).u32(c.server_id).text(c.file_name);
  return std::move(w).take();
}

Result<BinlogDump> decode_binlog_dump(ByteView payload) {
  ByteReader r(payload);
  BRELAY_TRY(expect_command(r, command::kBinlogDump, "COM_BINLOG_DUMP"));
  BinlogDump c;
  BRELAY_ASSIGN_OR_RETURN(c.position, r.u32("COM_BINLOG_DUMP position"));
  BRELAY_ASSIGN_OR_RETURN(c.flags, r.u16("COM_BINLOG_DUMP flags"));
  BRELAY_ASSIGN_OR_RETURN(c.server_id, r.u32("COM_BINLOG_DUMP server id"));
  c.file_name = std::string(r.rest_text());
  // Some clients end the name with a zero byte (zongji); the servers cut it at the first one.
  if (const auto zero = c.file_name.find('\0'); zero != std::string::npos) c.file_name.resize(zero);
  return c;
}

Bytes encode_binlog_dump_gtid(const BinlogDumpGtid& c) {
  ByteWriter w;
  w.u8(command::kBinlogDumpGtid).u16(c.flags).u32(c.server_id);
  w.u32(static_cast<std::uint32_t>(c.file_name.size())).text(c.file_name);
  w.u64(c.position);
  w.u32(static_cast<std::uint32_t>(c.gtid_set.size())).bytes(c.gtid_set);
  return std::move(w).take();
}

Result<BinlogDumpGtid> decode_binlog_dump_gtid(ByteView payload) {
  ByteReader r(payload);
  BRELAY_TRY(expect_command(r, command::kBinlogDumpGtid, "COM_BINLOG_DUMP_GTID"));
  BinlogDumpGtid c;
  BRELAY_ASSIGN_OR_RETURN(c.flags, r.u16("COM_BINLOG_DUMP_GTID flags"));
  BRELAY_ASSIGN_OR_RETURN(c.server_id, r.u32("COM_BINLOG_DUMP_GTID server id"));
  BRELAY_ASSIGN_OR_RETURN(auto name_length, r.u32("COM_BINLOG_DUMP_GTID file name length"));
  BRELAY_ASSIGN_OR_RETURN(auto name, r.text(name_length, "COM_BINLOG_DUMP_GTID file name"));
  c.file_name = std::string(name);
  BRELAY_ASSIGN_OR_RETURN(c.position, r.u64("COM_BINLOG_DUMP_GTID position"));
  if (r.at_end()) return c;  // no GTID set section: an empty set
  BRELAY_ASSIGN_OR_RETURN(auto data_length, r.u32("COM_BINLOG_DUMP_GTID GTID set length"));
  BRELAY_ASSIGN_OR_RETURN(auto data, r.bytes(data_length, "COM_BINLOG_DUMP_GTID GTID set"));
  c.gtid_set.assign(data.begin(), data.end());
  BRELAY_TRY(r.expect_end("COM_BINLOG_DUMP_GTID"));
  return c;
}

DumpEnvelopePrefix encode_dump_envelope_prefix(bool semi_sync, bool ack_requested) {
  DumpEnvelopePrefix prefix;
  prefix.bytes[0] = 0x00;
  prefix.size = 1;
  if (semi_sync) {
    prefix.bytes[1] = kSemiSyncIndicator;
    prefix.bytes[2] = ack_requested ? kSemiSyncAckRequested : 0;
    prefix.size = 3;
  }
  return prefix;
}

Bytes encode_dump_envelope(const DumpEnvelope& envelope) {
  ByteWriter w;
  w.bytes(encode_dump_envelope_prefix(envelope.semi_sync, envelope.ack_requested).view())
      .bytes(envelope.event);
  return std::move(w).take();
}

Result<DumpEnvelope> decode_dump_envelope(ByteView payload, bool semi_sync) {
  ByteReader r(payload);
  DumpEnvelope envelope;
  envelope.semi_sync = semi_sync;
  auto status = r.u8("dump packet status byte");
  if (semi_sync) {
    auto indicator = r.u8("semi-sync indicator");
    auto flag = r.u8("semi-sync flag");
    if (!flag || *indicator != kSemiSyncIndicator)
      return make_error("a semi-sync dump packet without its 0xEF header");
    envelope.ack_requested = (*flag & kSemiSyncAckRequested) != 0;
  }
  if (!status || *status != 0x00 || r.at_end())
    return make_error("a dump packet of {} bytes that holds no event", payload.size());
  envelope.event = r.rest();
  return envelope;
}

Bytes encode_semi_sync_ack(const SemiSyncAck& ack) {
  ByteWriter w;
  w.u8(kSemiSyncIndicator).u64(ack.position).text(ack.file_name);
  return std::move(w).take();
}

Result<SemiSyncAck> decode_semi_sync_ack(ByteView payload) {
  ByteReader r(payload);
  BRELAY_ASSIGN_OR_RETURN(auto indicator, r.u8("semi-sync indicator"));
  if (indicator != kSemiSyncIndicator)
    return make_error("not a semi-sync acknowledgement: first byte 0x{:02x}", indicator);
  SemiSyncAck ack;
  BRELAY_ASSIGN_OR_RETURN(ack.position, r.u64("semi-sync acknowledged position"));
  ack.file_name = std::string(r.rest_text());
  if (ack.file_name.empty()) return make_error("semi-sync acknowledgement without a file name");
  return ack;
}

}  // namespace brelay::net
