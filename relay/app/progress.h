// Progress of long CLI work (`import`, `export`) on a terminal: bytes done, rate and time left,
// redrawn in place on one line of stderr at most once per interval, only when stderr is a terminal
// and --quiet was not given. One thread; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

namespace brelay::relay {

// "12.0 MiB of 48.0 MiB (25%), 3.0 MiB/s, 12 s left" (total 0: no share and no time left; elapsed
// 0: no rate yet).
std::string format_progress(std::uint64_t done, std::uint64_t total, std::chrono::milliseconds elapsed);

// Whether progress should be shown: not `quiet` and standard error (fd 2) is a terminal.
bool progress_wanted(bool quiet);

class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    bool enabled = false;                                 // false: add() and finish() print nothing
    std::chrono::milliseconds interval{1000};             // at most one line per interval
    std::function<Clock::time_point()> now = Clock::now;  // injectable for tests
  };

  // `label` begins each line ("export: "); `total` is the expected number of bytes (0: unknown).
  ProgressMeter(std::ostream& out, std::string label, std::uint64_t total, Options options);
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  // Counts `bytes` more done; redraws the line when an interval has passed since the last one.
  void add(std::uint64_t bytes);
  // Redraws the final state and ends the line, when any line was drawn.
  void finish();
  // Ends a line drawn in place, so that a message written next starts a line of its own.
  void break_line();

  std::uint64_t done() const { return done_; }
  int lines_drawn() const { return lines_drawn_; }

 private:
  void draw();

  std::ostream& out_;
  std::string label_;
  std::uint64_t total_;
  Options options_;
  Clock::time_point start_;
  Clock::time_point last_draw_;
  std::uint64_t done_ = 0;
  int lines_drawn_ = 0;
  bool line_open_ = false;  // a line was drawn and not ended yet
};

}  // namespace brelay::relay
