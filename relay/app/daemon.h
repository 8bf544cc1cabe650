// Daemon: the `binlog-relay run` process. It opens the store, starts the storage writer thread and
// the libuv loop, runs the relay's components on the loop until SIGTERM or SIGINT, then finishes
// the commit in flight, closes sessions and returns. SIGHUP reopens the log and reloads what can be
// reloaded without dropping replicas. Readiness, reloads and stopping are reported to systemd
// (sd_notify) when it started the process.
#pragma once

#include <memory>
#include <string>

#include "relay/core/config.h"

namespace brelay::relay {

struct DaemonOptions {
  std::string log_level;   // overrides [log] level when not empty (--log-level)
  std::string log_format;  // overrides [log] format when not empty (--log-format: text or json)
  // --allow-insecure-config: the CLI let a configuration file that leaks plain-text secrets
  // through (config_access.h); the daemon logs a warning about it.
  bool allow_insecure_config = false;
};

// Runs the relay with `config` until it is told to stop; returns the process exit status (0 after
// a clean shutdown). Errors that prevent starting are logged with what to do and give status 1.
int run_daemon(Config config, const DaemonOptions& options);

// A random (version 4) UUID in the usual text form, for the relay's @@server_uuid and replica uuids.
std::string generate_uuid();

}  // namespace brelay::relay
