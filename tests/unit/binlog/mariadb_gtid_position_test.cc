// MariaDB GTID positions: @slave_connect_state text, @@gtid_binlog_pos output, and the start-file
// decision against a file's GTID_LIST (sql_repl.cc contains_all_slave_gtid).
#include <gtest/gtest.h>

#include "relay/binlog/mariadb_gtid_position.h"

namespace brelay::binlog {
namespace {

MariadbGtidPosition position_of(std::string_view text) {
  auto position = MariadbGtidPosition::parse(text);
  EXPECT_TRUE(position) << text << ": " << position.error().message();
  return position ? *position : MariadbGtidPosition();
}

std::vector<MariadbGtid> list_of(std::initializer_list<const char*> gtids) {
  std::vector<MariadbGtid> out;
  for (const char* text : gtids)
    out.push_back(*MariadbGtid::parse(text));
  return out;
}

TEST(MariadbGtidPosition, ParsesAndPrintsSlaveConnectState) {
  MariadbGtidPosition position = position_of(" 1-2-5 , 0-1-100");
  EXPECT_EQ(position.to_string(), "0-1-100,1-2-5");
  ASSERT_NE(position.find(1), nullptr);
  EXPECT_EQ(*position.find(1), (MariadbGtid{1, 2, 5}));
  EXPECT_EQ(position.find(7), nullptr);
  EXPECT_TRUE(position_of("").empty());
  EXPECT_EQ(position_of("4294967295-4294967295-18446744073709551615").to_string(),
            "4294967295-4294967295-18446744073709551615");
}

TEST(MariadbGtidPosition, RejectsMalformedText) {
  for (const char* text : {"0-1", "0-1-", "a-1-2", "0-1-2,", "0-1-2,,1-1-1", "0-1-2-3", "0-1-2,0-3-4",
                           "-1-1-1", "4294967296-1-1", "0 1 2"}) {
    EXPECT_FALSE(MariadbGtidPosition::parse(text)) << text;
  }
  auto duplicate = MariadbGtidPosition::parse("0-1-2,0-3-4");
  ASSERT_FALSE(duplicate);
  EXPECT_NE(duplicate.error().message().find("domain 0"), std::string::npos);
}

TEST(MariadbGtidPosition, UpdateAndHasReached) {
  MariadbGtidPosition position = position_of("0-1-10");
  EXPECT_TRUE(position.has_reached({0, 1, 10}));
  EXPECT_TRUE(position.has_reached({0, 2, 9}));
  EXPECT_FALSE(position.has_reached({0, 1, 11}));
  EXPECT_FALSE(position.has_reached({1, 1, 1}));
  position.update({1, 3, 4});
  position.update({0, 1, 11});
  EXPECT_EQ(position.to_string(), "0-1-11,1-3-4");
  EXPECT_EQ(MariadbGtidPosition::from_list(list_of({"0-1-5", "0-2-7", "1-1-3"})).to_string(), "0-2-7,1-1-3");
}

TEST(MariadbGtidPosition, IncludesAndMerge) {
  const MariadbGtidPosition binlog = position_of("0-1-10,1-2-5");
  EXPECT_TRUE(binlog.includes(position_of("0-1-10")));
  EXPECT_TRUE(binlog.includes(position_of("0-3-9,1-2-5")));
  EXPECT_FALSE(binlog.includes(position_of("0-1-11")));
  EXPECT_FALSE(binlog.includes(position_of("2-1-1")));
  EXPECT_TRUE(binlog.includes(MariadbGtidPosition()));
  MariadbGtidPosition merged = binlog;
  merged.merge(position_of("0-4-7,1-2-9,2-1-1"));
  EXPECT_EQ(merged.to_string(), "0-1-10,1-2-9,2-1-1");
}

TEST(MariadbGtidPosition, StartFileDecisionFollowsContainsAllSlaveGtid) {
  // The file began after 0-1-100 and 1-2-5 were logged.
  const auto list = list_of({"0-1-100", "1-2-5"});
  EXPECT_TRUE(position_of("0-1-100,1-2-5").can_start_in_file(list)) << "at exactly the list: start here";
  EXPECT_TRUE(position_of("0-1-150,1-2-9").can_start_in_file(list)) << "further on: start here (or later)";
  EXPECT_FALSE(position_of("0-1-99,1-2-5").can_start_in_file(list)) << "behind in domain 0: an earlier file";
  EXPECT_FALSE(position_of("0-1-100").can_start_in_file(list)) << "domain 1 unknown: from its beginning";
  EXPECT_TRUE(position_of("0-7-3,1-2-5").can_start_in_file(list)) << "another server id is not compared";
  EXPECT_TRUE(position_of("").can_start_in_file({})) << "an empty list (the first file)";
  // Two servers in one domain: the replica's GTID equal to a non-last entry is not enough.
  const auto two_servers = list_of({"0-1-100", "0-2-120"});
  EXPECT_FALSE(position_of("0-1-100").can_start_in_file(two_servers));
  EXPECT_TRUE(position_of("0-2-120").can_start_in_file(two_servers));
}

}  // namespace
}  // namespace brelay::binlog
