#include "common/cut_for_log.h"

#include <gtest/gtest.h>

namespace brelay {
namespace {

TEST(CutForLog, ShortValuesStayWhole) {
  EXPECT_EQ(cut_for_log(""), "");
  EXPECT_EQ(cut_for_log(std::string(kLogValueLimit, 'x')), std::string(kLogValueLimit, 'x'));
}

TEST(CutForLog, LongValuesAreCutAndSayHowLongTheyWere) {
  const std::string state(100 * 1024, '7');  // a 100 KB @slave_connect_state
  const std::string cut = cut_for_log(state);
  EXPECT_EQ(cut, std::string(kLogValueLimit, '7') + "... (102400 bytes)");
  EXPECT_EQ(cut_for_log("abcdef", 3), "abc... (6 bytes)");
}

TEST(CutForLog, NeverSplitsAUtf8Character) {
  // "é" is two bytes: a cut after 3 bytes of "aéé" would split the second one.
  EXPECT_EQ(cut_for_log("a\xc3\xa9\xc3\xa9", 4), "a\xc3\xa9... (5 bytes)");
  // Binary text (continuation bytes only) is cut at most three bytes early.
  EXPECT_EQ(cut_for_log(std::string(10, '\x80'), 5), std::string(2, '\x80') + "... (10 bytes)");
}

}  // namespace
}  // namespace brelay
