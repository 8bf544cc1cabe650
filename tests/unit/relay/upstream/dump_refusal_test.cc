// The decision "the source purged what the relay needs", by error code and the source's binary
// logs, never by the error's text.
#include "relay/upstream/dump_refusal.h"

#include <gtest/gtest.h>

namespace brelay::relay {
namespace {

SourceBinlogs listing(std::vector<std::string> names) {
  return SourceBinlogs{true, std::move(names)};
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

}  // namespace
}  // namespace brelay::relay
