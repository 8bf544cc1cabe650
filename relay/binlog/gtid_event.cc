#include "relay/binlog/gtid_event.h"

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "relay/binlog/serialization_varlen.h"

namespace brelay::binlog {

namespace {

constexpr std::uint8_t kLogicalClockTypeCode = 2;
constexpr std::uint64_t kOriginalTimestampFollows = std::uint64_t{1} << 55;
constexpr std::uint32_t kOriginalServerVersionFollows = std::uint32_t{1} << 31;

Result<GtidEvent> parse_fixed(const EventView& event) {
  ByteReader reader(event.body);
  GtidEvent gtid;
  gtid.anonymous = event.header.type == EventType::kAnonymousGtid;
  BRELAY_ASSIGN_OR_RETURN(gtid.flags, reader.u8("GTID flags"));
  BRELAY_ASSIGN_OR_RETURN(ByteView uuid, reader.bytes(16, "GTID uuid"));
  gtid.gtid.source.uuid = Uuid::from_bytes(uuid);
  BRELAY_ASSIGN_OR_RETURN(gtid.gtid.gno, reader.i64("GTID gno"));
  if (gtid.anonymous ? gtid.gtid.gno != 0 : (gtid.gtid.gno < 1 || gtid.gtid.gno > kMaxGno)) {
    return make_error("{} event with gno {} (expected {})", event_type_name(event.header.type), gtid.gtid.gno,
                      gtid.anonymous ? "0" : "1..2^63-2");
  }
  if (reader.at_end()) return gtid;
  BRELAY_ASSIGN_OR_RETURN(std::uint8_t clock_type, reader.u8("GTID logical clock type"));
  if (clock_type != kLogicalClockTypeCode) {
    return make_error("GTID event with logical clock type {} (expected {})", clock_type,
                      kLogicalClockTypeCode);
  }
  BRELAY_ASSIGN_OR_RETURN(gtid.last_committed, reader.i64("GTID last_committed"));
  BRELAY_ASSIGN_OR_RETURN(gtid.sequence_number, reader.i64("GTID sequence_number"));
  if (reader.at_end()) return gtid;
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t immediate, reader.uint_n(7, "GTID immediate_commit_timestamp"));
  gtid.immediate_commit_timestamp = immediate & ~kOriginalTimestampFollows;
  gtid.original_commit_timestamp = gtid.immediate_commit_timestamp;
  if ((immediate & kOriginalTimestampFollows) != 0) {
    BRELAY_ASSIGN_OR_RETURN(gtid.original_commit_timestamp,
                            reader.uint_n(7, "GTID original_commit_timestamp"));
  }
  if (reader.at_end()) return gtid;
  BRELAY_ASSIGN_OR_RETURN(gtid.transaction_length, reader.lenenc("GTID transaction_length"));
  if (reader.at_end()) return gtid;
  BRELAY_ASSIGN_OR_RETURN(std::uint32_t version, reader.u32("GTID immediate_server_version"));
  gtid.immediate_server_version = version & ~kOriginalServerVersionFollows;
  gtid.original_server_version = gtid.immediate_server_version;
  if ((version & kOriginalServerVersionFollows) != 0) {
    BRELAY_ASSIGN_OR_RETURN(gtid.original_server_version, reader.u32("GTID original_server_version"));
  }
  // A commit group ticket (u64) may follow; the relay has no use for it.
  return gtid;
}

// Field ids of the GTID_TAGGED message.
enum TaggedField : std::uint64_t {
  kFlags = 0,
  kUuid = 1,
  kGno = 2,
  kTag = 3,
  kLastCommitted = 4,
  kSequenceNumber = 5,
  kImmediateCommitTimestamp = 6,
  kOriginalCommitTimestamp = 7,
  kTransactionLength = 8,
  kImmediateServerVersion = 9,
  kOriginalServerVersion = 10,
  kCommitGroupTicket = 11,
};

// Which of the optional GTID_TAGGED fields a message carried.
struct TaggedFieldsSeen {
  bool uuid = false;
  bool gno = false;
  bool original_timestamp = false;
  bool original_version = false;
};

// Reads the value of field `id` into `gtid`. Returns false for a field this codec does not know (a
// newer, ignorable one, whose size is unknown: the known fields end there).
Result<bool> read_tagged_field(ByteReader& fields, std::uint64_t id, GtidEvent& gtid,
                               TaggedFieldsSeen& seen) {
  switch (id) {
    case kFlags: {
      BRELAY_ASSIGN_OR_RETURN(std::uint64_t flags, read_varlen_unsigned(fields, "GTID_TAGGED flags"));
      if (flags > 0xff) return make_error("GTID_TAGGED flags {} out of range", flags);
      gtid.flags = static_cast<std::uint8_t>(flags);
      return true;
    }
    case kUuid: {
      for (auto& byte : gtid.gtid.source.uuid.bytes) {
        BRELAY_ASSIGN_OR_RETURN(std::uint64_t value, read_varlen_unsigned(fields, "GTID_TAGGED uuid"));
        if (value > 0xff) return make_error("GTID_TAGGED uuid byte {} out of range", value);
        byte = static_cast<std::uint8_t>(value);
      }
      seen.uuid = true;
      return true;
    }
    case kGno: {
      BRELAY_ASSIGN_OR_RETURN(gtid.gtid.gno, read_varlen_signed(fields, "GTID_TAGGED gno"));
      seen.gno = true;
      return true;
    }
    case kTag: {
      BRELAY_ASSIGN_OR_RETURN(std::uint64_t length, read_varlen_unsigned(fields, "GTID_TAGGED tag length"));
      if (length > GtidTag::kMaxLength) return make_error("GTID_TAGGED tag of {} characters", length);
      BRELAY_ASSIGN_OR_RETURN(std::string_view text,
                              fields.text(static_cast<std::size_t>(length), "GTID_TAGGED tag"));
      BRELAY_ASSIGN_OR_RETURN(gtid.gtid.source.tag, GtidTag::parse(text));
      return true;
    }
    case kLastCommitted: {
      BRELAY_ASSIGN_OR_RETURN(gtid.last_committed, read_varlen_signed(fields, "GTID_TAGGED last_committed"));
      return true;
    }
    case kSequenceNumber: {
      BRELAY_ASSIGN_OR_RETURN(gtid.sequence_number,
                              read_varlen_signed(fields, "GTID_TAGGED sequence_number"));
      return true;
    }
    case kImmediateCommitTimestamp: {
      BRELAY_ASSIGN_OR_RETURN(gtid.immediate_commit_timestamp,
                              read_varlen_unsigned(fields, "GTID_TAGGED immediate_commit_timestamp"));
      return true;
    }
    case kOriginalCommitTimestamp: {
      BRELAY_ASSIGN_OR_RETURN(gtid.original_commit_timestamp,
                              read_varlen_unsigned(fields, "GTID_TAGGED original_commit_timestamp"));
      seen.original_timestamp = true;
      return true;
    }
    case kTransactionLength: {
      BRELAY_ASSIGN_OR_RETURN(gtid.transaction_length,
                              read_varlen_unsigned(fields, "GTID_TAGGED transaction_length"));
      return true;
    }
    case kImmediateServerVersion: {
      BRELAY_ASSIGN_OR_RETURN(std::uint64_t version,
                              read_varlen_unsigned(fields, "GTID_TAGGED server version"));
      gtid.immediate_server_version = static_cast<std::uint32_t>(version);
      return true;
    }
    case kOriginalServerVersion: {
      BRELAY_ASSIGN_OR_RETURN(std::uint64_t version,
                              read_varlen_unsigned(fields, "GTID_TAGGED server version"));
      gtid.original_server_version = static_cast<std::uint32_t>(version);
      seen.original_version = true;
      return true;
    }
    case kCommitGroupTicket: {
      BRELAY_TRY(read_varlen_unsigned(fields, "GTID_TAGGED commit group ticket"));
      return true;
    }
    default:
      // A newer, ignorable field: its size is unknown, so the known fields end here.
      return false;
  }
}

Result<GtidEvent> parse_tagged(const EventView& event) {
  ByteReader reader(event.body);
  GtidEvent gtid;
  BRELAY_TRY(read_varlen_unsigned(reader, "GTID_TAGGED format version"));
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t message_size, read_varlen_unsigned(reader, "GTID_TAGGED size"));
  BRELAY_ASSIGN_OR_RETURN(std::uint64_t last_non_ignorable,
                          read_varlen_unsigned(reader, "GTID_TAGGED last non-ignorable field"));
  if (message_size > event.body.size()) {
    return make_error("GTID_TAGGED message of {} bytes in a body of {}", message_size, event.body.size());
  }
  if (last_non_ignorable > kCommitGroupTicket + 1) {
    return make_error(
        "GTID_TAGGED event has unknown non-ignorable field {}: the source is newer than the relay "
        "understands",
        last_non_ignorable - 1);
  }
  ByteReader fields(event.body.first(static_cast<std::size_t>(message_size)));
  BRELAY_TRY(fields.skip(reader.position(), "GTID_TAGGED header"));
  TaggedFieldsSeen seen;
  std::uint64_t previous_id = 0;
  bool first = true;
  bool known_field = true;
  while (known_field && !fields.at_end()) {
    BRELAY_ASSIGN_OR_RETURN(std::uint64_t id, read_varlen_unsigned(fields, "GTID_TAGGED field id"));
    if (!first && id <= previous_id)
      return make_error("GTID_TAGGED field {} out of order after {}", id, previous_id);
    first = false;
    previous_id = id;
    BRELAY_ASSIGN_OR_RETURN(known_field, read_tagged_field(fields, id, gtid, seen));
  }
  if (!seen.uuid || !seen.gno) return make_error("GTID_TAGGED event without {}", seen.uuid ? "gno" : "uuid");
  if (gtid.gtid.gno < 1 || gtid.gtid.gno > kMaxGno)
    return make_error("GTID_TAGGED event with gno {}", gtid.gtid.gno);
  if (!seen.original_timestamp) gtid.original_commit_timestamp = gtid.immediate_commit_timestamp;
  if (!seen.original_version) gtid.original_server_version = gtid.immediate_server_version;
  return gtid;
}

}  // namespace

Result<GtidEvent> parse_gtid_event(const EventView& event) {
  switch (event.header.type) {
    case EventType::kGtid:
    case EventType::kAnonymousGtid: return parse_fixed(event);
    case EventType::kGtidTagged: return parse_tagged(event);
    default: return make_error("expected a MySQL GTID event, got {}", event_type_name(event.header.type));
  }
}

std::string gtid_event_info(const GtidEvent& gtid) {
  if (gtid.anonymous) return "SET @@SESSION.GTID_NEXT= 'ANONYMOUS'";
  return fmt::format("SET @@SESSION.GTID_NEXT= '{}'", gtid.gtid.to_string());
}

Bytes encode_tagged_gtid_body(const GtidEvent& gtid) {
  ByteWriter fields;
  auto field = [&fields](std::uint64_t id) { write_varlen_unsigned(fields, id); };
  field(kFlags);
  write_varlen_unsigned(fields, gtid.flags);
  field(kUuid);
  for (std::uint8_t byte : gtid.gtid.source.uuid.bytes)
    write_varlen_unsigned(fields, byte);
  field(kGno);
  write_varlen_signed(fields, gtid.gtid.gno);
  field(kTag);
  write_varlen_unsigned(fields, gtid.gtid.source.tag.text().size());
  fields.text(gtid.gtid.source.tag.text());
  field(kLastCommitted);
  write_varlen_signed(fields, gtid.last_committed);
  field(kSequenceNumber);
  write_varlen_signed(fields, gtid.sequence_number);
  field(kImmediateCommitTimestamp);
  write_varlen_unsigned(fields, gtid.immediate_commit_timestamp);
  if (gtid.original_commit_timestamp != gtid.immediate_commit_timestamp) {
    field(kOriginalCommitTimestamp);
    write_varlen_unsigned(fields, gtid.original_commit_timestamp);
  }
  field(kTransactionLength);
  write_varlen_unsigned(fields, gtid.transaction_length);
  field(kImmediateServerVersion);
  write_varlen_unsigned(fields, gtid.immediate_server_version);
  if (gtid.original_server_version != gtid.immediate_server_version) {
    field(kOriginalServerVersion);
    write_varlen_unsigned(fields, gtid.original_server_version);
  }
  // The message size counts its own header, whose length depends on the size: iterate to the
  // fixed point (two rounds at most).
  constexpr std::uint64_t kFormatVersion = 0;
  constexpr std::uint64_t kLastNonIgnorable = kImmediateServerVersion + 1;
  auto header_for = [&](std::uint64_t total) {
    ByteWriter header;
    write_varlen_unsigned(header, kFormatVersion);
    write_varlen_unsigned(header, total);
    write_varlen_unsigned(header, kLastNonIgnorable);
    return header;
  };
  std::uint64_t total = fields.size();
  while (header_for(total).size() + fields.size() != total)
    total = header_for(total).size() + fields.size();
  ByteWriter message = header_for(total);
  message.bytes(fields.data());
  return std::move(message).take();
}

}  // namespace brelay::binlog
