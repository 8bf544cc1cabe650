// The dump's GTID skipping decisions without a socket: MySQL auto-positioning (MysqlGtidSkipper)
// and MariaDB @slave_connect_state positioning (MariadbGtidSkipper), fed events built like the
// servers log them and classified by the real TransactionBoundaryTracker.
#include <gtest/gtest.h>

#include "relay/binlog/event_header.h"
#include "relay/binlog/gtid_event.h"
#include "relay/binlog/gtid_list_event.h"
#include "relay/binlog/mariadb_gtid_event.h"
#include "relay/binlog/transaction_boundary.h"
#include "relay/downstream/mariadb_gtid_skipper.h"
#include "relay/downstream/mysql_gtid_skipper.h"
#include "tests/unit/binlog/test_events.h"

namespace brelay::relay::downstream {
namespace {

using binlog::EventType;
using binlog::testing::make_event;
using binlog::testing::make_mariadb_gtid;
using binlog::testing::make_mysql_gtid;
using binlog::testing::make_query;
using binlog::testing::make_xid;

constexpr std::string_view kUuid = "0123456789abcdef";

binlog::EventView view(const Bytes& event) {
  auto viewed = binlog::view_event(event, binlog::ChecksumAlgorithm::kCrc32);
  EXPECT_TRUE(viewed) << viewed.error().message();
  return *viewed;
}

// One MySQL transaction: GTID, BEGIN, a statement, XID.
std::vector<Bytes> mysql_transaction(std::int64_t gno) {
  return {make_mysql_gtid(kUuid, gno), make_query("BEGIN"), make_query("INSERT INTO t VALUES (1)"),
          make_xid(7)};
}

struct MysqlRun {
  std::vector<MysqlGtidSkipper::Decision> decisions;
  std::uint64_t end = 0;
};

MysqlRun run_mysql(MysqlGtidSkipper& skipper, const std::vector<Bytes>& events, std::uint64_t position = 4) {
  MysqlRun run;
  for (const Bytes& event : events) {
    const EventType type = binlog::event_type(event[binlog::kTypeOffset]);
    std::optional<binlog::Gtid> gtid;
    if (MysqlGtidSkipper::needs_gtid(type)) {
      auto parsed = binlog::parse_gtid_event(view(event));
      EXPECT_TRUE(parsed);
      gtid = parsed->gtid;
    }
    position += event.size();
    run.decisions.push_back(skipper.decide(type, gtid ? &*gtid : nullptr, position));
  }
  run.end = position;
  return run;
}

binlog::GtidSet replica_set(std::int64_t last_gno) {
  auto gtid = binlog::parse_gtid_event(view(make_mysql_gtid(kUuid, 1)));
  EXPECT_TRUE(gtid);
  binlog::GtidSet set;
  for (std::int64_t gno = 1; gno <= last_gno; ++gno) {
    binlog::Gtid g = gtid->gtid;
    g.gno = gno;
    set.add(g);
  }
  return set;
}

TEST(MysqlGtidSkipper, SkipsTheGroupsTheReplicaHasAndAnnouncesWhereTheStretchEnds) {
  const binlog::GtidSet replica = replica_set(2);
  MysqlGtidSkipper skipper(replica);
  std::vector<Bytes> events;
  for (std::int64_t gno = 1; gno <= 3; ++gno) {
    auto group = mysql_transaction(gno);
    events.insert(events.end(), group.begin(), group.end());
  }
  const MysqlRun run = run_mysql(skipper, events);
  std::uint64_t skipped_end = 4;
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(run.decisions[i].verdict, MysqlGtidSkipper::Verdict::kSkip) << i;
    skipped_end += events[i].size();
  }
  EXPECT_EQ(run.decisions[8].verdict, MysqlGtidSkipper::Verdict::kSend);
  EXPECT_EQ(run.decisions[8].announce_before, skipped_end) << "the heartbeat before the first group sent";
  for (std::size_t i = 9; i < events.size(); ++i) {
    EXPECT_EQ(run.decisions[i].verdict, MysqlGtidSkipper::Verdict::kSend) << i;
    EXPECT_EQ(run.decisions[i].announce_before, 0u) << i;
  }
  EXPECT_EQ(skipper.unannounced_end(), 0u);
}

TEST(MysqlGtidSkipper, AStretchThatReachesTheEndStaysToBeAnnouncedUntilTheCallerDoes) {
  const binlog::GtidSet replica = replica_set(5);
  MysqlGtidSkipper skipper(replica);
  const MysqlRun run = run_mysql(skipper, mysql_transaction(4));
  for (const auto& decision : run.decisions)
    EXPECT_EQ(decision.verdict, MysqlGtidSkipper::Verdict::kSkip);
  EXPECT_EQ(skipper.unannounced_end(), run.end);
  skipper.announced();
  EXPECT_EQ(skipper.unannounced_end(), 0u);
  // Announced already: the next group sent needs no heartbeat first.
  const MysqlRun next = run_mysql(skipper, mysql_transaction(6), run.end);
  EXPECT_EQ(next.decisions[0].verdict, MysqlGtidSkipper::Verdict::kSend);
  EXPECT_EQ(next.decisions[0].announce_before, 0u);
}

TEST(MysqlGtidSkipper, ARotateIsNeverSkippedAndAnAnonymousTransactionIsRefused) {
  const binlog::GtidSet replica = replica_set(3);
  MysqlGtidSkipper skipper(replica);
  std::vector<Bytes> events = mysql_transaction(1);
  events.push_back(make_event(EventType::kRotate, Bytes{4, 0, 0, 0, 0, 0, 0, 0, 'b', '.', '2'}));
  const MysqlRun run = run_mysql(skipper, events);
  EXPECT_EQ(run.decisions[3].verdict, MysqlGtidSkipper::Verdict::kSkip);
  EXPECT_EQ(run.decisions[4].verdict, MysqlGtidSkipper::Verdict::kSend);
  EXPECT_EQ(run.decisions[4].announce_before, run.end - events[4].size());
  const MysqlRun anonymous = run_mysql(skipper, {make_mysql_gtid(kUuid, 0)});
  EXPECT_EQ(anonymous.decisions[0].verdict, MysqlGtidSkipper::Verdict::kAnonymousRefused);
}

// MariaDB: what a dump of `events` does, event by event: "s" skipped, "S" sent, "+F" a fake GTID_LIST after
// it.
struct MariadbRun {
  std::string trace;
  Status status;
};

MariadbRun run_mariadb(MariadbGtidSkipper& skipper, const std::vector<Bytes>& events) {
  binlog::TransactionBoundaryTracker tracker;
  MariadbRun run;
  for (const Bytes& event : events) {
    const binlog::EventView v = view(event);
    auto boundary = tracker.feed(v);
    EXPECT_TRUE(boundary) << boundary.error().message();
    if (v.header.type == EventType::kMariadbGtid) {
      auto gtid = binlog::parse_mariadb_gtid(v);
      EXPECT_TRUE(gtid);
      run.status = skipper.on_gtid(gtid->gtid);
      if (!run.status) return run;
    }
    const auto decision = skipper.skip(*boundary);
    if (decision.skip) {
      run.trace += decision.fake_gtid_list_after ? "s+F " : "s ";
    } else {
      run.trace += skipper.fake_gtid_list_after_sent(*boundary) ? "S+F " : "S ";
    }
  }
  return run;
}

std::vector<Bytes> mariadb_transaction(std::uint32_t domain, std::uint32_t server, std::uint64_t seq) {
  return {make_mariadb_gtid(domain, server, seq, 0), make_query("INSERT INTO t VALUES (1)"), make_xid(9)};
}

std::vector<Bytes> concat(std::initializer_list<std::vector<Bytes>> parts) {
  std::vector<Bytes> out;
  for (const auto& part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

binlog::MariadbGtidPosition position_of(std::string_view text) {
  auto position = binlog::MariadbGtidPosition::parse(text);
  EXPECT_TRUE(position);
  return *position;
}

TEST(MariadbGtidSkipper, SkipsEachDomainUpToTheReplicasGtidThenSendsAFakeGtidList) {
  MariadbGtidSkipper skipper(position_of("0-1-2"), false);
  EXPECT_TRUE(skipper.skipping_to_start());
  EXPECT_TRUE(skipper.needs_boundaries());
  skipper.begin_file({{0, 1, 0}});
  const auto run = run_mariadb(skipper, concat({mariadb_transaction(0, 1, 1), mariadb_transaction(0, 1, 2),
                                                mariadb_transaction(0, 1, 3)}));
  ASSERT_TRUE(run.status);
  EXPECT_EQ(run.trace, "s s s s s s+F S S S ");
  EXPECT_FALSE(skipper.skipping_to_start());
  EXPECT_FALSE(skipper.needs_boundaries());
  const std::vector<binlog::MariadbGtid> list = skipper.fake_gtid_list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].to_string(), "0-1-3") << "the stream's state includes every GTID seen";
}

TEST(MariadbGtidSkipper, OtherDomainsAndOtherServersAreSentOrSkippedByTheirOwnGtid) {
  MariadbGtidSkipper skipper(position_of("0-1-2,1-2-5"), false);
  const auto run = run_mariadb(skipper, concat({mariadb_transaction(2, 1, 7), mariadb_transaction(0, 3, 9),
                                                mariadb_transaction(1, 2, 5), mariadb_transaction(0, 1, 2)}));
  ASSERT_TRUE(run.status);
  // Domain 2 is not in the state: sent. 0-3-9 is another server's: skipped. 1-2-5 and 0-1-2 reach
  // the state: skipped, each followed by a fake GTID_LIST.
  EXPECT_EQ(run.trace, "S S S s s s s s s+F s s s+F ");
}

TEST(MariadbGtidSkipper, AGtidPastTheReplicasOneIsSentAndEndsTheSkippingOfItsDomain) {
  MariadbGtidSkipper skipper(position_of("0-1-2"), false);
  const auto run = run_mariadb(skipper, concat({mariadb_transaction(0, 1, 4), mariadb_transaction(0, 1, 5)}));
  ASSERT_TRUE(run.status);
  // As MariaDB's send_events: the fake GTID_LIST goes out right after the first sent group's GTID
  // event (issue 14: it came after the group's last event).
  EXPECT_EQ(run.trace, "S+F S S S S S ");
}

// Issue 14 item 4: a start state with sequence 0 reaches the replica's position at the first GTID;
// the fake GTID_LIST follows that GTID event, not the transaction's first Query.
TEST(MariadbGtidSkipper, StartStateWithSequenceZeroSendsTheFakeGtidListRightAfterTheGtidEvent) {
  MariadbGtidSkipper skipper(position_of("0-1-0"), false);
  const auto run = run_mariadb(skipper, concat({mariadb_transaction(0, 1, 1), mariadb_transaction(0, 1, 2)}));
  ASSERT_TRUE(run.status);
  EXPECT_EQ(run.trace, "S+F S S S S S ");
}

TEST(MariadbGtidSkipper, StrictModeRefusesAHoleWhereTheReplicasGtidShouldBe) {
  MariadbGtidSkipper skipper(position_of("0-1-2"), true);
  const auto run = run_mariadb(skipper, concat({mariadb_transaction(0, 1, 1), mariadb_transaction(0, 1, 3)}));
  ASSERT_FALSE(run.status);
  EXPECT_EQ(run.status.error().code(), 1236);
  EXPECT_NE(run.status.error().message().find("missing the GTID 0-1-2"), std::string::npos)
      << run.status.error().message();
}

TEST(MariadbGtidSkipper, WithoutAStartStateNothingIsSkipped) {
  MariadbGtidSkipper skipper(binlog::MariadbGtidPosition(), false);
  EXPECT_FALSE(skipper.needs_boundaries());
  const auto run = run_mariadb(skipper, mariadb_transaction(0, 1, 1));
  EXPECT_EQ(run.trace, "S S S ");
}

TEST(FakeGtidList, IsAnArtificialGtidListOfTheState) {
  const std::vector<binlog::MariadbGtid> state = {{0, 1, 3}, {1, 2, 5}};
  const Bytes event = build_fake_gtid_list(77, state, 1234, true);
  const binlog::EventView v = view(event);
  EXPECT_EQ(v.header.type, EventType::kGtidList);
  EXPECT_EQ(v.header.server_id, 77u);
  EXPECT_EQ(v.header.log_pos, 1234u);
  EXPECT_NE(v.header.flags & binlog::event_flags::kArtificial, 0);
  auto list = binlog::parse_gtid_list(v);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->gtids.size(), 2u);
  EXPECT_EQ(list->gtids[1].to_string(), "1-2-5");
  EXPECT_EQ(build_fake_gtid_list(77, state, 1234, false).size(), event.size() - 4);
}

}  // namespace
}  // namespace brelay::relay::downstream
