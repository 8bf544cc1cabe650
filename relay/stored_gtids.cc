#include "relay/stored_gtids.h"

#include "common/byte_reader.h"
#include "common/byte_writer.h"

namespace brelay::relay {
namespace {

constexpr std::uint8_t kMysqlKey = 0x01;
constexpr std::uint8_t kMariadbKey = 0x02;

void put_big_endian(Bytes& out, std::uint64_t value, int width) {
  for (int i = width - 1; i >= 0; --i)
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

Result<std::uint64_t> get_big_endian(ByteReader& reader, int width, std::string_view field) {
  BRELAY_ASSIGN_OR_RETURN(ByteView bytes, reader.bytes(static_cast<std::size_t>(width), field));
  std::uint64_t value = 0;
  for (std::uint8_t b : bytes)
    value = (value << 8) | b;
  return value;
}

}  // namespace

Bytes gtid_key(const binlog::TransactionGtid& gtid) {
  Bytes key;
  switch (gtid.kind) {
    case binlog::TransactionGtid::Kind::kNone:
    case binlog::TransactionGtid::Kind::kAnonymous: break;
    case binlog::TransactionGtid::Kind::kMysql: {
      const std::string_view tag = gtid.mysql.source.tag.text();
      key.reserve(1 + 16 + 1 + tag.size() + 8);
      key.push_back(kMysqlKey);
      key.insert(key.end(), gtid.mysql.source.uuid.bytes.begin(), gtid.mysql.source.uuid.bytes.end());
      key.push_back(static_cast<std::uint8_t>(tag.size()));
      key.insert(key.end(), tag.begin(), tag.end());
      put_big_endian(key, static_cast<std::uint64_t>(gtid.mysql.gno), 8);
      break;
    }
    case binlog::TransactionGtid::Kind::kMariadb:
      key.reserve(1 + 4 + 4 + 8);
      key.push_back(kMariadbKey);
      put_big_endian(key, gtid.mariadb.domain_id, 4);
      put_big_endian(key, gtid.mariadb.server_id, 4);
      put_big_endian(key, gtid.mariadb.seq_no, 8);
      break;
  }
  return key;
}

Result<binlog::TransactionGtid> decode_gtid_key(ByteView key) {
  ByteReader reader(key);
  BRELAY_ASSIGN_OR_RETURN(std::uint8_t kind, reader.u8("GTID key kind"));
  binlog::TransactionGtid gtid;
  if (kind == kMysqlKey) {
    gtid.kind = binlog::TransactionGtid::Kind::kMysql;
    BRELAY_ASSIGN_OR_RETURN(ByteView uuid, reader.bytes(16, "GTID key uuid"));
    gtid.mysql.source.uuid = binlog::Uuid::from_bytes(uuid);
    BRELAY_ASSIGN_OR_RETURN(std::uint8_t tag_length, reader.u8("GTID key tag length"));
    BRELAY_ASSIGN_OR_RETURN(std::string_view tag, reader.text(tag_length, "GTID key tag"));
    if (!tag.empty()) {
      BRELAY_ASSIGN_OR_RETURN(gtid.mysql.source.tag, binlog::GtidTag::parse(tag));
    }
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t gno, get_big_endian(reader, 8, "GTID key gno"));
    gtid.mysql.gno = static_cast<std::int64_t>(gno);
  } else if (kind == kMariadbKey) {
    gtid.kind = binlog::TransactionGtid::Kind::kMariadb;
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t domain, get_big_endian(reader, 4, "GTID key domain"));
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t server, get_big_endian(reader, 4, "GTID key server_id"));
    BRELAY_ASSIGN_OR_RETURN(gtid.mariadb.seq_no, get_big_endian(reader, 8, "GTID key seq_no"));
    gtid.mariadb.domain_id = static_cast<std::uint32_t>(domain);
    gtid.mariadb.server_id = static_cast<std::uint32_t>(server);
  } else {
    return make_error("unknown GTID key kind {}", kind);
  }
  BRELAY_TRY(reader.expect_end("GTID key"));
  return gtid;
}

Bytes encode_mysql_gtid_set(const binlog::GtidSet& set) {
  return set.encode();
}

Result<binlog::GtidSet> decode_mysql_gtid_set(ByteView blob) {
  return binlog::GtidSet::decode(blob);
}

Bytes encode_mariadb_position(const binlog::MariadbGtidPosition& position) {
  return to_bytes(position.to_string());
}

Result<binlog::MariadbGtidPosition> decode_mariadb_position(ByteView blob) {
  return binlog::MariadbGtidPosition::parse(as_text(blob));
}

Bytes encode_mariadb_gtid_list(const std::vector<binlog::MariadbGtid>& list) {
  return to_bytes(binlog::to_string(list));
}

Result<std::vector<binlog::MariadbGtid>> decode_mariadb_gtid_list(ByteView blob) {
  std::vector<binlog::MariadbGtid> list;
  std::string_view rest = as_text(blob);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    BRELAY_ASSIGN_OR_RETURN(binlog::MariadbGtid gtid, binlog::MariadbGtid::parse(rest.substr(0, comma)));
    list.push_back(gtid);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return list;
}

}  // namespace brelay::relay
