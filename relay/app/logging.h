// Process-wide logging through spdlog: one line per event worth an operator's attention, to stderr
// (systemd's journal) or to a file that SIGHUP reopens (for logrotate).
#pragma once

#include <string>

#include "common/result.h"

namespace brelay::relay {

struct LogSettings {
  std::string level = "info";  // trace | debug | info | warn | error | critical | off
  std::string file;            // "" = stderr
};

// Installs the default logger. Call once at start-up and again after SIGHUP (which reopens the file,
// so a rotated log continues in a new file). Errors name the file and leave the previous logger.
Status configure_logging(const LogSettings& settings);

}  // namespace brelay::relay
