#include "storage/replica_record.h"

#include "common/byte_reader.h"
#include "common/byte_writer.h"

namespace brelay::storage {
namespace {

Result<std::string> read_field(ByteReader& reader, std::size_t max, std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t size, reader.lenenc(field));
  if (size > reader.remaining())
    return make_error("{} claims {} bytes, {} remain", field, size, reader.remaining());
  if (size > max) return make_error("{} has {} bytes, at most {} are kept", field, size, max);
  BRELAY_ASSIGN_OR_RETURN(std::string_view text, reader.text(static_cast<std::size_t>(size), field));
  return std::string(text);
}

Result<ReplicaRecord> decode_fields(std::uint32_t key_id, ByteView value) {
  ByteReader reader(value);
  ReplicaRecord record;
  BRELAY_ASSIGN_OR_RETURN(std::uint8_t version, reader.u8("version"));
  if (version != ReplicaRecord::kVersion)
    return make_error("version {} is not one this release reads ({})", version, ReplicaRecord::kVersion);
  BRELAY_ASSIGN_OR_RETURN(record.server_id, reader.u32("server_id"));
  if (record.server_id != key_id)
    return make_error("it names server_id {} but is stored under {}", record.server_id, key_id);
  BRELAY_ASSIGN_OR_RETURN(record.first_seen, reader.i64("first seen"));
  BRELAY_ASSIGN_OR_RETURN(record.last_seen, reader.i64("last seen"));
  if (record.first_seen > record.last_seen)
    return make_error("first seen {} is after last seen {}", record.first_seen, record.last_seen);
  BRELAY_ASSIGN_OR_RETURN(record.uuid, read_field(reader, ReplicaRecord::kMaxText, "uuid"));
  BRELAY_ASSIGN_OR_RETURN(record.account, read_field(reader, ReplicaRecord::kMaxText, "account"));
  BRELAY_ASSIGN_OR_RETURN(record.host, read_field(reader, ReplicaRecord::kMaxText, "host"));
  BRELAY_ASSIGN_OR_RETURN(record.file, read_field(reader, ReplicaRecord::kMaxText, "file"));
  BRELAY_ASSIGN_OR_RETURN(record.position, reader.u64("position"));
  BRELAY_ASSIGN_OR_RETURN(record.gtid_state, read_field(reader, ReplicaRecord::kMaxGtidState, "GTID state"));
  BRELAY_ASSIGN_OR_RETURN(std::uint8_t flags, reader.u8("flags"));
  if ((flags & ~1u) != 0) return make_error("unknown flags 0x{:02x}", flags);
  record.gtid_positioned = (flags & 1u) != 0;
  BRELAY_TRY(reader.expect_end("the record"));
  return record;
}

}  // namespace

std::array<std::uint8_t, 4> ReplicaRecord::key() const {
  return {static_cast<std::uint8_t>(server_id >> 24), static_cast<std::uint8_t>(server_id >> 16),
          static_cast<std::uint8_t>(server_id >> 8), static_cast<std::uint8_t>(server_id)};
}

Bytes ReplicaRecord::encode() const {
  ByteWriter writer;
  writer.u8(kVersion).u32(server_id).i64(first_seen).i64(last_seen);
  writer.lenenc_text(uuid).lenenc_text(account).lenenc_text(host).lenenc_text(file).u64(position);
  writer.lenenc_text(gtid_state).u8(gtid_positioned ? 1 : 0);
  return std::move(writer).take();
}

Result<std::uint32_t> decode_replica_key(ByteView key) {
  if (key.size() != 4)
    return make_error("a remembered replica's key has {} bytes, expected 4 (its server_id)", key.size());
  return (std::uint32_t{key[0]} << 24) | (std::uint32_t{key[1]} << 16) | (std::uint32_t{key[2]} << 8) |
         std::uint32_t{key[3]};
}

Result<ReplicaRecord> ReplicaRecord::decode(ByteView key, ByteView value) {
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t id, decode_replica_key(key));
  auto record = decode_fields(id, value);
  if (!record) {
    return make_error(
        "the remembered replica record of server_id {} is damaged ({}); FORGET REPLICA {} removes it", id,
        record.error().message(), id);
  }
  return record;
}

}  // namespace brelay::storage
