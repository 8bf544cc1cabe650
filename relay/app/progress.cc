#include "relay/app/progress.h"

#include <unistd.h>

#include <cmath>
#include <ostream>

#include <fmt/format.h>

namespace brelay::relay {
namespace {

std::string bytes_text(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

std::string seconds_text(std::uint64_t seconds) {
  if (seconds < 60) return fmt::format("{} s", seconds);
  if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
  return fmt::format("{}h{:02}m", seconds / 3600, seconds % 3600 / 60);
}

}  // namespace

std::string format_progress(std::uint64_t done, std::uint64_t total, std::chrono::milliseconds elapsed) {
  std::string text = bytes_text(static_cast<double>(done));
  if (total > 0) {
    const std::uint64_t shown_total = std::max(total, done);
    text +=
        fmt::format(" of {} ({}%)", bytes_text(static_cast<double>(shown_total)), done * 100 / shown_total);
  }
  if (elapsed.count() <= 0) return text;
  const double rate = static_cast<double>(done) * 1000.0 / static_cast<double>(elapsed.count());
  text += fmt::format(", {}/s", bytes_text(rate));
  if (total > 0 && rate > 0 && done < total) {
    const auto left = static_cast<std::uint64_t>(std::llround(static_cast<double>(total - done) / rate));
    text += fmt::format(", {} left", seconds_text(left));
  }
  return text;
}

bool progress_wanted(bool quiet) {
  return !quiet && ::isatty(STDERR_FILENO) == 1;
}

ProgressMeter::ProgressMeter(std::ostream& out, std::string label, std::uint64_t total, Options options)
    : out_(out), label_(std::move(label)), total_(total), options_(std::move(options)) {
  start_ = options_.now();
  last_draw_ = start_;
}

void ProgressMeter::add(std::uint64_t bytes) {
  done_ += bytes;
  if (!options_.enabled) return;
  if (options_.now() - last_draw_ >= options_.interval) draw();
}

void ProgressMeter::finish() {
  if (!options_.enabled || lines_drawn_ == 0) return;
  draw();
  break_line();
}

void ProgressMeter::break_line() {
  if (!line_open_) return;
  out_ << "\n" << std::flush;
  line_open_ = false;
}

void ProgressMeter::draw() {
  const auto now = options_.now();
  last_draw_ = now;
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_);
  // Back to the line's start, the text, then erase what a longer previous line left.
  out_ << "\r" << label_ << format_progress(done_, total_, elapsed) << "\x1b[K" << std::flush;
  ++lines_drawn_;
  line_open_ = true;
}

}  // namespace brelay::relay
