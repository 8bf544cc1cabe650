#include "relay/stored_gtids.h"

#include "common/byte_writer.h"
#include "relay/binlog/event_header.h"
#include "relay/binlog/gtid_list_event.h"
#include "relay/binlog/previous_gtids_event.h"

namespace brelay::relay {
namespace {

void put_big_endian(ByteWriter& out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = width; i > 0; --i)
    out.u8(static_cast<std::uint8_t>(value >> (8 * (i - 1))));
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

Bytes stored_gtid_key(const binlog::TransactionGtid& gtid) {
  ByteWriter key;
  switch (gtid.kind) {
    case binlog::TransactionGtid::Kind::kNone:
    case binlog::TransactionGtid::Kind::kAnonymous: return {};
    case binlog::TransactionGtid::Kind::kMysql:
      key.u8('M');
      key.bytes(gtid.mysql.source.uuid.bytes);
      put_big_endian(key, static_cast<std::uint64_t>(gtid.mysql.gno), 8);
      key.text(gtid.mysql.source.tag.text());
      break;
    case binlog::TransactionGtid::Kind::kMariadb:
      key.u8('D');
      put_big_endian(key, gtid.mariadb.domain_id, 4);
      put_big_endian(key, gtid.mariadb.server_id, 4);
      put_big_endian(key, gtid.mariadb.seq_no, 8);
      break;
  }
  return std::move(key).take();
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
