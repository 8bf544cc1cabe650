// Event parsers on hand-built events: header fields, checksum handling, every parser given every
// prefix of a valid body (an error where the prefix is not itself a valid event; never a crash or
// an out-of-bounds read, which the sanitizer build checks), and the GTID_TAGGED layout.
#include <gtest/gtest.h>

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "relay/binlog/event_info.h"
#include "relay/binlog/gtid_event.h"
#include "relay/binlog/gtid_list_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/query_event.h"
#include "relay/binlog/rotate_event.h"
#include "relay/binlog/serialization_varlen.h"
#include "tests/unit/binlog/test_events.h"

namespace brelay::binlog {
namespace {

using testing::make_event;

TEST(EventHeader, ParsesAndWritesTheNineteenBytes) {
  EventHeader header{.timestamp = 0x01020304,
                     .type = EventType::kXid,
                     .server_id = 0x0a0b0c0d,
                     .event_size = 31,
                     .log_pos = 0x11223344,
                     .flags = 0x8001};
  Bytes bytes(19);
  write_event_header(header, bytes);
  EXPECT_EQ(bytes, (Bytes{0x04, 0x03, 0x02, 0x01, 16, 0x0d, 0x0c, 0x0b, 0x0a, 31, 0, 0, 0, 0x44, 0x33, 0x22,
                          0x11, 0x01, 0x80}));
  auto parsed = parse_event_header(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, header);
  EXPECT_FALSE(parse_event_header(ByteView(bytes).first(18)));
  bytes[9] = 18;  // event_size below the header
  EXPECT_FALSE(parse_event_header(bytes));
}

TEST(EventHeader, ViewEventChecksTheSizeAndSplitsTheChecksum) {
  const Bytes xid = testing::make_xid(42, true);
  auto with = view_event(xid, ChecksumAlgorithm::kCrc32);
  ASSERT_TRUE(with);
  EXPECT_EQ(with->body.size(), 8u);
  EXPECT_TRUE(with->has_checksum);
  auto without = view_event(xid, ChecksumAlgorithm::kOff);
  ASSERT_TRUE(without);
  EXPECT_EQ(without->body.size(), 12u);
  EXPECT_FALSE(view_event(ByteView(xid).first(xid.size() - 1), ChecksumAlgorithm::kCrc32));
  Bytes damaged = xid;
  damaged[20] ^= 1;
  auto status = verify_event_checksum(damaged);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message().find("checksum mismatch in Xid event"), std::string::npos);
}

TEST(EventParsers, EveryPrefixOfABodyIsAnErrorNotACrash) {
  ByteWriter gtid_body;
  gtid_body.u8(1).zeros(16).i64(5).u8(2).i64(3).i64(4).uint_n(1234, 7).lenenc(300).u32(80031);
  ByteWriter mariadb_gtid_body;
  mariadb_gtid_body.u64(9).u32(0).u8(0x02).u64(77);
  ByteWriter list_body;
  list_body.u32(2).u32(0).u32(1).u64(5).u32(1).u32(2).u64(6);
  struct Case {
    EventType type;
    Bytes body;
    std::size_t first_valid_size;  // shorter prefixes must fail; longer ones may be valid events too
  };
  const std::vector<Case> cases = {
      {EventType::kQuery, testing::query_body("INSERT INTO t VALUES (1)", "shop"), 13 + 4 + 1},
      {EventType::kGtid, gtid_body.data(), 1 + 16 + 8},
      {EventType::kMariadbGtid, mariadb_gtid_body.data(), mariadb_gtid_body.size()},
      {EventType::kGtidList, list_body.data(), list_body.size()},
      {EventType::kRotate, Bytes{4, 0, 0, 0, 0, 0, 0, 0, 'f'}, 9},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(event_type_name(c.type)));
    const Bytes whole = make_event(c.type, c.body, false);
    auto full = event_info(*view_event(whole, ChecksumAlgorithm::kOff));
    ASSERT_TRUE(full) << full.error().message();
    for (std::size_t size = 0; size < c.body.size(); ++size) {
      const Bytes cut = make_event(c.type, ByteView(c.body).first(size), false);
      auto info = event_info(*view_event(cut, ChecksumAlgorithm::kOff));
      if (size < c.first_valid_size) {
        EXPECT_FALSE(info) << "body cut to " << size;
      }
    }
  }
}

TEST(EventParsers, MysqlGtidOptionalParts) {
  ByteWriter body;
  body.u8(0).bytes(Uuid::parse("76f3e7be-6720-11ed-9cad-0242ac110002")->bytes).i64(11).u8(2).i64(3).i64(4);
  body.uint_n((std::uint64_t{1} << 55) | 1000, 7)
      .uint_n(900, 7)
      .lenenc(70000)
      .u32((1u << 31) | 80031)
      .u32(50740);
  const Bytes event = make_event(EventType::kGtid, body.data());
  auto gtid = parse_gtid_event(*view_event(event, ChecksumAlgorithm::kCrc32));
  ASSERT_TRUE(gtid) << gtid.error().message();
  EXPECT_EQ(gtid->gtid.to_string(), "76f3e7be-6720-11ed-9cad-0242ac110002:11");
  EXPECT_EQ(gtid->immediate_commit_timestamp, 1000u);
  EXPECT_EQ(gtid->original_commit_timestamp, 900u);
  EXPECT_EQ(gtid->transaction_length, 70000u);
  EXPECT_EQ(gtid->immediate_server_version, 80031u);
  EXPECT_EQ(gtid->original_server_version, 50740u);
  // gno 0 is only valid for an anonymous GTID, and only gno 0 is.
  ByteWriter zero;
  zero.u8(0).zeros(16).i64(0);
  EXPECT_FALSE(
      parse_gtid_event(*view_event(make_event(EventType::kGtid, zero.data()), ChecksumAlgorithm::kCrc32)));
  EXPECT_TRUE(parse_gtid_event(
      *view_event(make_event(EventType::kAnonymousGtid, zero.data()), ChecksumAlgorithm::kCrc32)));
}

TEST(EventParsers, TaggedGtidRoundTripsThroughTheSerializationLayout) {
  GtidEvent gtid;
  gtid.flags = 1;
  gtid.gtid = *Gtid::parse("76f3e7be-6720-11ed-9cad-0242ac110002:Tag_1:300");
  gtid.last_committed = 7;
  gtid.sequence_number = 8;
  gtid.immediate_commit_timestamp = 1700000000000000;
  gtid.original_commit_timestamp = 1699999999999999;
  gtid.transaction_length = 1234;
  gtid.immediate_server_version = 80400;
  gtid.original_server_version = 80400;
  const Bytes body = encode_tagged_gtid_body(gtid);
  const Bytes event = make_event(EventType::kGtidTagged, body);
  auto parsed = parse_gtid_event(*view_event(event, ChecksumAlgorithm::kCrc32));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->gtid.to_string(), "76f3e7be-6720-11ed-9cad-0242ac110002:tag_1:300");
  EXPECT_EQ(parsed->flags, 1);
  EXPECT_EQ(parsed->last_committed, 7);
  EXPECT_EQ(parsed->sequence_number, 8);
  EXPECT_EQ(parsed->immediate_commit_timestamp, gtid.immediate_commit_timestamp);
  EXPECT_EQ(parsed->original_commit_timestamp, gtid.original_commit_timestamp);
  EXPECT_EQ(parsed->transaction_length, 1234u);
  EXPECT_EQ(parsed->original_server_version, 80400u);
  // The message header: format version 0, the total size (counting itself), last field id + 1.
  EXPECT_EQ(body[0], 0);
  ByteReader reader(body);
  (void)reader.u8("version");
  std::uint64_t size = *read_varlen_unsigned(reader, "size");
  EXPECT_EQ(size, body.size());
  EXPECT_FALSE(parse_gtid_event(*view_event(
      make_event(EventType::kGtidTagged, ByteView(body).first(body.size() / 2)), ChecksumAlgorithm::kCrc32)));
}

TEST(EventParsers, MariadbGtidAndGtidList) {
  ByteWriter body;
  body.u64(100).u32(3).u8(0x02 | 0x08).u64(55);
  const Bytes event = make_event(EventType::kMariadbGtid, body.data(), true, 9);
  auto gtid = parse_mariadb_gtid(*view_event(event, ChecksumAlgorithm::kCrc32));
  ASSERT_TRUE(gtid);
  EXPECT_EQ(gtid->gtid, (MariadbGtid{3, 9, 100}));
  EXPECT_EQ(gtid->commit_id, 55u);
  EXPECT_FALSE(gtid->standalone());

  ByteWriter list_body;
  list_body.u32(2 | (1u << 28)).u32(0).u32(1).u64(5).u32(1).u32(2).u64(6);
  auto list = parse_gtid_list(
      *view_event(make_event(EventType::kGtidList, list_body.data()), ChecksumAlgorithm::kCrc32));
  ASSERT_TRUE(list);
  EXPECT_EQ(list->flags, 1);
  EXPECT_EQ(gtid_list_info(*list), "[0-1-5,1-2-6]");
  ByteWriter lying;
  lying.u32(1000).u32(0).u32(1).u64(5);
  EXPECT_FALSE(parse_gtid_list(
      *view_event(make_event(EventType::kGtidList, lying.data()), ChecksumAlgorithm::kCrc32)));
}

TEST(EventTypes, NamesForEveryKnownType) {
  for (int code = 1; code <= 42; ++code) {
    EXPECT_NE(event_type_name(event_type(static_cast<std::uint8_t>(code))), "Unknown") << code;
  }
  for (int code = 160; code <= 171; ++code) {
    EXPECT_NE(event_type_name(event_type(static_cast<std::uint8_t>(code))), "Unknown") << code;
  }
  EXPECT_EQ(event_type_name(event_type(43)), "Unknown");
  EXPECT_EQ(event_type_name(EventType::kFormatDescription), "Format_desc");
  EXPECT_EQ(event_type_name(EventType::kMariadbGtid), "Gtid");
}

}  // namespace
}  // namespace brelay::binlog
