// The decision "the source purged what the relay needs", by error code and the source's binary
// logs, never by the error's text.
#include "relay/upstream/dump_refusal.h"

#include <gtest/gtest.h>

namespace brelay::relay {
namespace {

SourceBinlogs listing(std::vector<std::string> names) {
  SourceBinlogs binlogs;
  binlogs.listed = true;
  binlogs.names = std::move(names);
  return binlogs;
}

TEST(DumpRefusal, TheCodesAreTheFatalReadingErrorAndItsVariants) {
  for (int code : {1236, 1789, 1945, 1951, 1955})
    EXPECT_TRUE(is_dump_refused(code)) << code;
  for (int code : {0, 1045, 1105, 1193, 1236 + 1, 2013})
    EXPECT_FALSE(is_dump_refused(code)) << code;
}

TEST(DumpRefusal, PurgedWhenTheNeededFileIsNoLongerListed) {
  const SourceBinlogs binlogs = listing({"mysql-bin.000004", "mysql-bin.000005"});
  EXPECT_EQ(classify_dump_refusal(1236, "mysql-bin.000001", binlogs), DumpRefusal::kPurged);
  EXPECT_EQ(classify_dump_refusal(1236, "mysql-bin.000004", binlogs), DumpRefusal::kRefused)
      << "the file is there: another reason (a bad position, a diverged GTID state)";
  EXPECT_EQ(classify_dump_refusal(1945, "mysql-bin.000003", binlogs), DumpRefusal::kPurged);
}

TEST(DumpRefusal, TheFirstBinlogIsPurgedOnlyWhenTheSourceHasNone) {
  EXPECT_EQ(classify_dump_refusal(1236, "", listing({})), DumpRefusal::kPurged);
  EXPECT_EQ(classify_dump_refusal(1236, "", listing({"mysql-bin.000004"})), DumpRefusal::kRefused);
}

TEST(DumpRefusal, NeitherAnotherCodeNorAnUncheckedSourceIsCalledPurged) {
  EXPECT_EQ(classify_dump_refusal(1105, "mysql-bin.000001", listing({"mysql-bin.000004"})),
            DumpRefusal::kRefused);
  EXPECT_EQ(classify_dump_refusal(1236, "mysql-bin.000001", SourceBinlogs{}), DumpRefusal::kRefused);
}

binlog::GtidSet gtids(std::string_view text) {
  auto set = binlog::GtidSet::parse(text);
  EXPECT_TRUE(set) << text;
  return *set;
}

TEST(DumpRefusal, AMysqlGtidDumpIsPurgedWhenTheSourcePurgedGtidsTheRelayLacks) {
  const binlog::GtidSet requested = gtids("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-20");
  SourceBinlogs binlogs = listing({"mysql-bin.000004"});
  binlogs.purged_gtids = gtids("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-30");
  EXPECT_EQ(classify_dump_refusal(1236, "", binlogs, &requested), DumpRefusal::kPurged)
      << "ER_MASTER_HAS_PURGED_REQUIRED_GTIDS inside a 1236";
  binlogs.purged_gtids = gtids("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10");
  EXPECT_EQ(classify_dump_refusal(1236, "", binlogs, &requested), DumpRefusal::kRefused)
      << "the relay has everything purged: another reason";
  EXPECT_EQ(classify_dump_refusal(1236, "mysql-bin.000002", binlogs, &requested), DumpRefusal::kPurged)
      << "the file it continues in is gone";
  binlogs.purged_gtids = gtids("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-30");
  EXPECT_EQ(classify_dump_refusal(1236, "", binlogs, nullptr), DumpRefusal::kRefused) << "not a GTID dump";
  EXPECT_EQ(classify_dump_refusal(1105, "", binlogs, &requested), DumpRefusal::kRefused);
}

// A review finding: after a failover the new source's binlogs have other names, and a GTID dump it
// refuses for another reason must not be reported as "purged" because the relay's own file name is
// not among them.
TEST(DumpRefusal, AGtidDumpIsJudgedByTheRelaysFileOnlyWhileTheSourceNamesItsBinlogsAlike) {
  EXPECT_EQ(gtid_dump_needed_file("mysql-bin.000003", listing({"mysql-bin.000007", "mysql-bin.000008"})),
            "mysql-bin.000003");
  EXPECT_EQ(gtid_dump_needed_file("mysql-bin.000003", listing({"db2-bin.000001"})), "");
  EXPECT_EQ(gtid_dump_needed_file("mysql-bin.000003", listing({})), "");
  const SourceBinlogs other_server = listing({"db2-bin.000001"});
  EXPECT_EQ(
      classify_dump_refusal(1236, gtid_dump_needed_file("mysql-bin.000003", other_server), other_server),
      DumpRefusal::kRefused);
  const SourceBinlogs same_server = listing({"mysql-bin.000007"});
  EXPECT_EQ(classify_dump_refusal(1236, gtid_dump_needed_file("mysql-bin.000003", same_server), same_server),
            DumpRefusal::kPurged);
}

}  // namespace
}  // namespace brelay::relay
