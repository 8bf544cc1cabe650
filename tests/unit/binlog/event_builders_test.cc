// The events a master synthesises: fake ROTATE, the FDE rewrite, heartbeats v1/v2 and MariaDB's
// same-length replacements for old replicas, each parsed back and checksum-verified.
#include <gtest/gtest.h>

#include "relay/binlog/event_builders.h"
#include "relay/binlog/format_description.h"
#include "relay/binlog/heartbeat_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/query_event.h"
#include "relay/binlog/rotate_event.h"
#include "tests/unit/binlog/fixture_walk.h"

namespace brelay::binlog {
namespace {

EventView view(const Bytes& event, bool checksum) {
  auto v = view_event(event, checksum ? ChecksumAlgorithm::kCrc32 : ChecksumAlgorithm::kOff);
  EXPECT_TRUE(v) << v.error().message();
  return *v;
}

TEST(EventBuilders, FakeRotateWithAndWithoutChecksum) {
  for (bool checksum : {true, false}) {
    const Bytes event = build_fake_rotate(77, "mysql-bin.000042", 4, checksum);
    EXPECT_EQ(event.size(), 19u + 8u + 16u + (checksum ? 4u : 0u));
    const EventView v = view(event, checksum);
    EXPECT_EQ(v.header.timestamp, 0u);
    EXPECT_EQ(v.header.type, EventType::kRotate);
    EXPECT_EQ(v.header.server_id, 77u);
    EXPECT_EQ(v.header.log_pos, 0u);
    EXPECT_EQ(v.header.flags, event_flags::kArtificial);
    if (checksum) {
      EXPECT_TRUE(verify_event_checksum(event));
    }
    auto rotate = parse_rotate(v);
    ASSERT_TRUE(rotate);
    EXPECT_TRUE(rotate->artificial);
    EXPECT_EQ(rotate->next_file, "mysql-bin.000042");
    EXPECT_EQ(rotate->position, 4u);
    EXPECT_EQ(rotate_info(*rotate), "mysql-bin.000042;pos=4");
  }
}

TEST(EventBuilders, FormatDescriptionRewriteClearsInUseAndZeroesPositionForMidFileStarts) {
  auto walked =
      testing::walk_binlog_file(testing::fixture_path("rust-mysql-common-mariadb105-gtid-row.000001"));
  ASSERT_TRUE(walked);
  const Bytes& original = walked->events[0].bytes;
  auto original_fde = parse_format_description(original);
  ASSERT_TRUE(original_fde);
  ASSERT_NE(original_fde->created, 0u);

  auto from_start = rewrite_format_description(original, false);
  ASSERT_TRUE(from_start) << from_start.error().message();
  ASSERT_EQ(from_start->size(), original.size());
  EXPECT_TRUE(verify_event_checksum(*from_start));
  auto header = parse_event_header(*from_start);
  EXPECT_EQ(header->flags & event_flags::kBinlogInUse, 0);
  EXPECT_EQ(header->log_pos, walked->events[0].header.log_pos);
  EXPECT_EQ(parse_format_description(*from_start)->created, original_fde->created);
  // With IN_USE cleared the stored CRC is unchanged: it was computed that way.
  EXPECT_TRUE(std::equal(from_start->end() - 4, from_start->end(), original.end() - 4));

  auto mid_file = rewrite_format_description(original, true);
  ASSERT_TRUE(mid_file);
  EXPECT_TRUE(verify_event_checksum(*mid_file));
  EXPECT_EQ(parse_event_header(*mid_file)->log_pos, 0u);
  auto fde = parse_format_description(*mid_file);
  ASSERT_TRUE(fde);
  EXPECT_EQ(fde->created, 0u);
  EXPECT_EQ(fde->server_version, original_fde->server_version);
  EXPECT_EQ(fde->post_header_lengths, original_fde->post_header_lengths);
  EXPECT_EQ(fde->checksum_algorithm, ChecksumAlgorithm::kCrc32);

  EXPECT_FALSE(rewrite_format_description(walked->events[1].bytes, true)) << "not an FDE";
}

TEST(EventBuilders, HeartbeatsParseBack) {
  for (bool checksum : {true, false}) {
    const Bytes v1 = build_heartbeat_v1(5, "binlog.000003", 12345, checksum);
    const EventView view1 = view(v1, checksum);
    EXPECT_EQ(view1.header.type, EventType::kHeartbeat);
    EXPECT_EQ(view1.header.log_pos, 12345u);
    EXPECT_EQ(view1.header.timestamp, 0u);
    auto hb1 = parse_heartbeat(view1);
    ASSERT_TRUE(hb1);
    EXPECT_EQ(hb1->file, "binlog.000003");
    EXPECT_EQ(hb1->position, 12345u);
    if (checksum) {
      EXPECT_TRUE(verify_event_checksum(v1));
    }

    const std::uint64_t big = (std::uint64_t{1} << 33) + 7;
    const Bytes v2 = build_heartbeat_v2(5, "binlog.000003", big, checksum);
    const EventView view2 = view(v2, checksum);
    EXPECT_EQ(view2.header.type, EventType::kHeartbeatV2);
    auto hb2 = parse_heartbeat(view2);
    ASSERT_TRUE(hb2) << hb2.error().message();
    EXPECT_EQ(hb2->file, "binlog.000003");
    EXPECT_EQ(hb2->position, big);
    if (checksum) {
      EXPECT_TRUE(verify_event_checksum(v2));
    }
  }
  // v2 body layout: (1, len, name) (2, len, packed position) 0.
  const Bytes v2 = build_heartbeat_v2(1, "f", 300, false);
  EXPECT_EQ(Bytes(v2.begin() + 19, v2.end()), (Bytes{1, 1, 'f', 2, 3, 0xfc, 0x2c, 0x01, 0}));
}

TEST(EventBuilders, MariadbGtidBecomesSameLengthBeginForOldReplicas) {
  auto walked =
      testing::walk_binlog_file(testing::fixture_path("rust-mysql-common-mariadb105-gtid-row.000001"));
  ASSERT_TRUE(walked);
  const Bytes& gtid = walked->events[3].bytes;
  ASSERT_EQ(walked->events[3].header.type, EventType::kMariadbGtid);
  auto begin = mariadb_gtid_for_old_replica(gtid, true);
  ASSERT_TRUE(begin) << begin.error().message();
  ASSERT_EQ(begin->size(), gtid.size());
  EXPECT_TRUE(verify_event_checksum(*begin));
  const EventView v = view(*begin, true);
  EXPECT_EQ(v.header.type, EventType::kQuery);
  EXPECT_EQ(v.header.log_pos, walked->events[3].header.log_pos);
  EXPECT_NE(v.header.flags & event_flags::kSuppressUse, 0);
  auto query = parse_query(v);
  ASSERT_TRUE(query) << query.error().message();
  EXPECT_EQ(query->query, "BEGIN");
  EXPECT_EQ(query->schema, "");
}

TEST(EventBuilders, MariadbDummyEventsKeepLengthAndParse) {
  auto walked =
      testing::walk_binlog_file(testing::fixture_path("rust-mysql-common-mariadb105-gtid-row.000001"));
  ASSERT_TRUE(walked);
  // GTID_LIST (29 bytes with CRC: 25 without, the user-variable form) and BINLOG_CHECKPOINT (45).
  const Bytes& list = walked->events[1].bytes;
  auto list_dummy = mariadb_dummy_event(list, true);
  ASSERT_TRUE(list_dummy) << list_dummy.error().message();
  ASSERT_EQ(list_dummy->size(), list.size());
  EXPECT_TRUE(verify_event_checksum(*list_dummy));
  EXPECT_EQ(parse_event_header(*list_dummy)->type, EventType::kUserVar);
  // 25 bytes hold a 4-byte name length, the name "!" and the NULL flag.
  EXPECT_EQ(Bytes(list_dummy->begin() + 19, list_dummy->end() - 4), (Bytes{1, 0, 0, 0, '!', 1}));

  const Bytes& checkpoint = walked->events[2].bytes;
  auto dummy = mariadb_dummy_event(checkpoint, true);
  ASSERT_TRUE(dummy);
  ASSERT_EQ(dummy->size(), checkpoint.size());
  EXPECT_TRUE(verify_event_checksum(*dummy));
  auto query = parse_query(view(*dummy, true));
  ASSERT_TRUE(query) << query.error().message();
  // 45 - 4 - 33 = 8 characters of the comment.
  EXPECT_EQ(query->query, "# Dummy ");

  const Bytes& annotate = walked->events[4].bytes;
  auto long_dummy = mariadb_dummy_event(annotate, true);
  ASSERT_TRUE(long_dummy);
  auto long_query = parse_query(view(*long_dummy, true));
  ASSERT_TRUE(long_query);
  EXPECT_TRUE(
      long_query->query.starts_with("# Dummy event replacing event type 160 that slave cannot handle. "));
  EXPECT_EQ(long_query->query.size(), annotate.size() - 4 - 33);
  EXPECT_EQ(long_query->query.find_last_not_of(' '), 63u);
  EXPECT_EQ(classify_query(long_query->query), QueryKind::kOther);

  Bytes tiny = build_fake_rotate(1, "x", 4, false);  // 28 bytes, 24 + 4 checksum: too short
  EXPECT_FALSE(mariadb_dummy_event(Bytes(tiny.begin(), tiny.begin() + 28), true));
}

}  // namespace
}  // namespace brelay::binlog
