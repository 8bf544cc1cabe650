#include "relay/core/stored_gtids.h"

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/gtid_list_event.h"
#include "relay/binlog/previous_gtids_event.h"

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

// The event's checksum algorithm, guessed from its trailer: the blob does not say, but a CRC that
// verifies is one.
binlog::ChecksumAlgorithm guess_algorithm(ByteView event) {
  if (event.size() >= binlog::kEventHeaderSize + binlog::kChecksumSize &&
      binlog::verify_event_checksum(event))
    return binlog::ChecksumAlgorithm::kCrc32;
  return binlog::ChecksumAlgorithm::kOff;
}

Result<PreviousGtids> decode_event(ByteView blob) {
  BRELAY_ASSIGN_OR_RETURN(binlog::EventView event, binlog::view_event(blob, guess_algorithm(blob)));
  PreviousGtids result;
  if (event.header.type == binlog::EventType::kPreviousGtids) {
    result.kind = PreviousGtids::Kind::kMysql;
    BRELAY_ASSIGN_OR_RETURN(result.mysql, binlog::parse_previous_gtids(event));
    return result;
  }
  result.kind = PreviousGtids::Kind::kMariadb;
  BRELAY_ASSIGN_OR_RETURN(binlog::GtidListEvent list, binlog::parse_gtid_list(event));
  result.gtid_list = std::move(list.gtids);
  return result;
}

Result<PreviousGtids> decode_text(std::string_view text) {
  PreviousGtids result;
  if (auto mysql = binlog::GtidSet::parse(text); mysql && text.find(':') != std::string_view::npos) {
    result.kind = PreviousGtids::Kind::kMysql;
    result.mysql = std::move(*mysql);
    return result;
  }
  // A GTID_LIST may hold several servers of one domain, which a GTID position may not: split by hand.
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\n'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\n'))
      item.remove_suffix(1);
    if (item.empty()) continue;
    BRELAY_ASSIGN_OR_RETURN(binlog::MariadbGtid gtid, binlog::MariadbGtid::parse(item));
    result.gtid_list.push_back(gtid);
  }
  result.kind = PreviousGtids::Kind::kMariadb;
  return result;
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

bool is_previous_gtids_event(ByteView event) {
  if (event.size() < binlog::kEventHeaderSize) return false;
  const auto type = binlog::event_type(event[binlog::kTypeOffset]);
  return type == binlog::EventType::kPreviousGtids || type == binlog::EventType::kGtidList;
}

Result<PreviousGtids> decode_previous_gtids(ByteView blob) {
  if (blob.empty()) return PreviousGtids{};
  if (is_previous_gtids_event(blob)) {
    if (auto event = binlog::parse_event_header(blob); event && event->event_size == blob.size()) {
      auto decoded = decode_event(blob);
      if (decoded) return decoded;
    }
  }
  if (auto set = binlog::GtidSet::decode(blob)) {
    PreviousGtids result;
    result.kind = PreviousGtids::Kind::kMysql;
    result.mysql = std::move(*set);
    return result;
  }
  auto text = decode_text(as_text(blob));
  if (!text) {
    return make_error(
        "the stored previous-GTID set of a file is neither a PREVIOUS_GTIDS/GTID_LIST event, "
        "an encoded GTID set nor GTID text: {}",
        text.error().message());
  }
  return text;
}

}  // namespace brelay::relay
