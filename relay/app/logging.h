// Process-wide logging through spdlog: one line per event worth an operator's attention, to stderr
// (systemd's journal) or to a file that SIGHUP reopens (for logrotate), as text or as one JSON
// object per line (for log shippers).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace brelay::relay {

struct LogSettings {
  std::string level = "info";   // trace | debug | info | warn | error | critical | off
  std::string file;             // "" = stderr
  std::string format = "text";  // text | json
};

// Installs the default logger. Call once at start-up and again after SIGHUP (which reopens the file,
// so a rotated log continues in a new file). Errors name the file (or the level or format) and
// leave the previous logger.
Status configure_logging(const LogSettings& settings);

// One event as a JSON line, without the newline:
// {"time":"2026-12-04T14:25:24.123Z","level":"info","component":"upstream","message":"..."}.
// The component is the message's leading "word: " (lower-case letters, digits, '-' and '_'), which
// is then left out of the message; else "relay". Quotes, backslashes and control characters are
// escaped, and bytes that are not UTF-8 become U+FFFD, so any message stays one valid line.
std::string format_json_log_line(std::chrono::system_clock::time_point time, std::string_view level,
                                 std::string_view message);

// `text` as a JSON string body (no surrounding quotes), by the rules above.
std::string json_escape(std::string_view text);

}  // namespace brelay::relay
