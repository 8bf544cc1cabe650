// Progress output of `import` and `export` (relay/app/progress.h): the line's text, and that a
// meter draws at most once per interval on a clock the test moves, nothing when disabled.
#include "relay/app/progress.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <sstream>

namespace brelay::relay {
namespace {

using namespace std::chrono_literals;

TEST(Progress, TheLineSaysBytesDoneShareRateAndTimeLeft) {
  EXPECT_EQ(format_progress(12 << 20, 48 << 20, 4000ms), "12.0 MiB of 48.0 MiB (25%), 3.0 MiB/s, 12 s left");
  EXPECT_EQ(format_progress(0, 1000, 0ms), "0 B of 1000 B (0%)");
  EXPECT_EQ(format_progress(512, 0, 1000ms), "512 B, 512 B/s");
  // Slow: minutes and hours left.
  EXPECT_EQ(format_progress(std::uint64_t{1} << 30, std::uint64_t{11} << 30, 100'000ms),
            "1.0 GiB of 11.0 GiB (9%), 10.2 MiB/s, 16m40s left");
  EXPECT_EQ(format_progress(1 << 20, std::uint64_t{4} << 30, 1000ms),
            "1.0 MiB of 4.0 GiB (0%), 1.0 MiB/s, 1h08m left");
  // Done, or more than expected (a file grew): no time left, never over 100%.
  EXPECT_EQ(format_progress(2048, 1024, 1000ms), "2.0 KiB of 2.0 KiB (100%), 2.0 KiB/s");
}

struct FakeClock {
  ProgressMeter::Clock::time_point now{};
  ProgressMeter::Options options(bool enabled, std::chrono::milliseconds interval) {
    return {enabled, interval, [this] { return now; }};
  }
};

TEST(Progress, DrawsAtMostOncePerIntervalInPlaceAndEndsTheLine) {
  FakeClock clock;
  std::ostringstream out;
  ProgressMeter meter(out, "export: ", 10'000, clock.options(true, 1000ms));
  for (int i = 0; i < 100; ++i) {
    meter.add(10);
    clock.now += 25ms;  // 100 adds over 2.5 s: lines at 1 s and 2 s
  }
  EXPECT_EQ(meter.lines_drawn(), 2);
  EXPECT_EQ(meter.done(), 1000u);
  meter.finish();
  EXPECT_EQ(meter.lines_drawn(), 3);
  const std::string text = out.str();
  EXPECT_EQ(text.rfind("\rexport: ", 0), 0u) << text;
  EXPECT_NE(text.find("\rexport: 1000 B of 9.8 KiB (10%), 400 B/s, 23 s left\x1b[K\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Progress, DisabledPrintsNothingAndAQuickJobEndsWithoutALine) {
  FakeClock clock;
  std::ostringstream quiet;
  ProgressMeter disabled(quiet, "import: ", 100, clock.options(false, 0ms));
  disabled.add(50);
  disabled.finish();
  EXPECT_EQ(quiet.str(), "");
  EXPECT_EQ(disabled.done(), 50u);

  std::ostringstream quick;
  ProgressMeter fast(quick, "import: ", 100, clock.options(true, 1000ms));
  fast.add(100);  // done within the first interval
  fast.finish();
  EXPECT_EQ(quick.str(), "");
}

TEST(Progress, BreakLineLetsAMessageStartOnItsOwnLine) {
  FakeClock clock;
  std::ostringstream out;
  ProgressMeter meter(out, "export: ", 0, clock.options(true, 0ms));
  meter.add(1);
  meter.break_line();
  meter.break_line();  // once only
  out << "an error\n";
  EXPECT_EQ(out.str(), "\rexport: 1 B\x1b[K\nan error\n");
}

TEST(Progress, NotWantedWhenQuietOrStderrIsNoTerminal) {
  EXPECT_FALSE(progress_wanted(true));
  // ctest runs tests with stderr on a pipe or file.
  if (::isatty(2) == 0) {
    EXPECT_FALSE(progress_wanted(false));
  }
}

}  // namespace
}  // namespace brelay::relay
