// What a dump does with each event for a MariaDB replica of each capability
// (mariadb_compatibility.h), and what it adds besides the events (dump_extras.h): heartbeats and
// semi-sync acknowledgement requests. No socket, no clock.
#include <gtest/gtest.h>

#include "relay/binlog/event_header.h"
#include "relay/binlog/heartbeat_event.h"
#include "relay/downstream/dump_extras.h"
#include "relay/downstream/dump_request.h"
#include "relay/downstream/mariadb_compatibility.h"

namespace brelay::relay::downstream {
namespace {

using binlog::EventType;
using std::chrono::milliseconds;

constexpr int kNone = mariadb_capability::kUnknown;
constexpr int kAnnotate = mariadb_capability::kAnnotate;
constexpr int kHoles = mariadb_capability::kTolerateHoles;
constexpr int kCheckpoint = mariadb_capability::kBinlogCheckpoint;
constexpr int kGtid = mariadb_capability::kGtid;

TEST(MariadbCompatibility, ACapableReplicaGetsEveryEventAsStored) {
  for (EventType type : {EventType::kMariadbGtid, EventType::kGtidList, EventType::kBinlogCheckpoint,
                         EventType::kAnnotateRows, EventType::kQuery, EventType::kXid}) {
    EXPECT_EQ(mariadb_compatibility(type, kGtid, true, false), MariadbCompatibility::kSend);
    EXPECT_FALSE(mariadb_compatibility_needs_gtid(type, kGtid));
  }
  EXPECT_EQ(mariadb_compatibility(EventType::kQuery, kNone, false, false), MariadbCompatibility::kSend);
}

TEST(MariadbCompatibility, AnnotateRowsOnlyWhenAskedFor) {
  EXPECT_EQ(mariadb_compatibility(EventType::kAnnotateRows, kNone, true, false), MariadbCompatibility::kSend);
  EXPECT_EQ(mariadb_compatibility(EventType::kAnnotateRows, kNone, false, false),
            MariadbCompatibility::kSendDummy);
  EXPECT_EQ(mariadb_compatibility(EventType::kAnnotateRows, kAnnotate, false, false),
            MariadbCompatibility::kSend);
  EXPECT_EQ(mariadb_compatibility(EventType::kAnnotateRows, kHoles, false, false),
            MariadbCompatibility::kSkip);
  EXPECT_EQ(mariadb_compatibility(EventType::kAnnotateRows, kGtid, false, false),
            MariadbCompatibility::kSkip);
}

TEST(MariadbCompatibility, GtidEventsForReplicasWithoutGtidSupport) {
  for (int capability : {kNone, kAnnotate, kHoles, kCheckpoint}) {
    EXPECT_TRUE(mariadb_compatibility_needs_gtid(EventType::kMariadbGtid, capability)) << capability;
    EXPECT_EQ(mariadb_compatibility(EventType::kMariadbGtid, capability, false, false),
              MariadbCompatibility::kSendGtidForOldReplica)
        << capability;
  }
  // A standalone GTID is left out where holes are tolerated, else replaced.
  EXPECT_EQ(mariadb_compatibility(EventType::kMariadbGtid, kNone, false, true),
            MariadbCompatibility::kSendGtidForOldReplica);
  EXPECT_EQ(mariadb_compatibility(EventType::kMariadbGtid, kAnnotate, false, true),
            MariadbCompatibility::kSendGtidForOldReplica);
  EXPECT_EQ(mariadb_compatibility(EventType::kMariadbGtid, kHoles, false, true), MariadbCompatibility::kSkip);
  EXPECT_EQ(mariadb_compatibility(EventType::kMariadbGtid, kCheckpoint, false, true),
            MariadbCompatibility::kSkip);
}

TEST(MariadbCompatibility, GtidListAndBinlogCheckpointBecomeDummiesOrHoles) {
  EXPECT_EQ(mariadb_compatibility(EventType::kGtidList, kNone, false, false),
            MariadbCompatibility::kSendDummy);
  EXPECT_EQ(mariadb_compatibility(EventType::kGtidList, kAnnotate, false, false),
            MariadbCompatibility::kSendDummy);
  EXPECT_EQ(mariadb_compatibility(EventType::kGtidList, kHoles, false, false), MariadbCompatibility::kSkip);
  EXPECT_EQ(mariadb_compatibility(EventType::kGtidList, kCheckpoint, false, false),
            MariadbCompatibility::kSkip);
  EXPECT_EQ(mariadb_compatibility(EventType::kBinlogCheckpoint, kNone, false, false),
            MariadbCompatibility::kSendDummy);
  EXPECT_EQ(mariadb_compatibility(EventType::kBinlogCheckpoint, kHoles, false, false),
            MariadbCompatibility::kSkip);
  EXPECT_EQ(mariadb_compatibility(EventType::kBinlogCheckpoint, kCheckpoint, false, false),
            MariadbCompatibility::kSend);
  EXPECT_FALSE(mariadb_compatibility_needs_gtid(EventType::kGtidList, kNone));
}

TEST(HeartbeatPolicy, DueWhileSkippingOncePerPeriod) {
  const HeartbeatPolicy policy(milliseconds(1000));
  EXPECT_TRUE(policy.enabled());
  EXPECT_FALSE(policy.due_while_skipping(milliseconds(999)));
  EXPECT_TRUE(policy.due_while_skipping(milliseconds(1000)));
  const HeartbeatPolicy off(milliseconds(0));
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.due_while_skipping(milliseconds(100000)));
}

TEST(HeartbeatPolicy, NeverWhileIdleBetweenARotateAndTheNextFilesFde) {
  const HeartbeatPolicy policy(milliseconds(500));
  EXPECT_TRUE(policy.due_while_idle(milliseconds(500), false));
  EXPECT_FALSE(policy.due_while_idle(milliseconds(499), false));
  EXPECT_FALSE(policy.due_while_idle(milliseconds(5000), true)) << "MDEV-29981";
  EXPECT_EQ(policy.idle_delay(milliseconds(200)), milliseconds(300));
  EXPECT_EQ(policy.idle_delay(milliseconds(800)), milliseconds(1)) << "overdue: at once, not negative";
}

TEST(DumpHeartbeat, V1OrV2WithTheFileAndPosition) {
  for (bool v2 : {false, true}) {
    for (bool crc : {false, true}) {
      const Bytes event = build_dump_heartbeat(v2, 9, "mysql-bin.000003", 4567, crc);
      auto view = binlog::view_event(
          event, crc ? binlog::ChecksumAlgorithm::kCrc32 : binlog::ChecksumAlgorithm::kOff);
      ASSERT_TRUE(view) << view.error().message();
      EXPECT_EQ(view->header.type, v2 ? EventType::kHeartbeatV2 : EventType::kHeartbeat);
      EXPECT_EQ(view->header.server_id, 9u);
      auto heartbeat = binlog::parse_heartbeat(*view);
      ASSERT_TRUE(heartbeat) << heartbeat.error().message();
      EXPECT_EQ(heartbeat->file, "mysql-bin.000003");
      EXPECT_EQ(heartbeat->position, 4567u);
    }
  }
}

TEST(SemiSyncMarking, AnAcknowledgementIsRequestedAtEachTransactionsEnd) {
  binlog::EventBoundary middle;
  middle.in_transaction = true;
  binlog::EventBoundary end = middle;
  end.ends_transaction = true;
  EXPECT_FALSE(semi_sync_ack_requested(true, middle));
  EXPECT_TRUE(semi_sync_ack_requested(true, end));
  EXPECT_FALSE(semi_sync_ack_requested(false, end));
}

}  // namespace
}  // namespace brelay::relay::downstream
