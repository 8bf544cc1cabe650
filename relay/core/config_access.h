// Who may read the configuration file, and who the relay runs as: the hygiene checks `run` applies
// at start (a file that leaks plain-text secrets is refused unless --allow-insecure-config; root
// gives a warning) and `check` reports.
//
// The file rule is the one PostgreSQL applies to its key file: while the file holds a plain-text
// secret (Config::inline_secrets), it must not be readable by others, and readable by its group
// only when root owns it (0640 root:binlog-relay, as the Debian package installs it, lets the
// service's group read a file only root may change). A file with no plain-text secret (passwords in
// *_file keys, accounts as hashes) may be readable by anyone. Any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "relay/core/config.h"

namespace brelay::relay {

struct ConfigExposure {
  std::string problem;  // what is wrong: the file, its secrets, its mode and owner
  std::string fix;      // what to do
};

// The exposure of `config.path`, or nullopt when the file is private enough or holds no plain-text
// secret. Errors when the file cannot be examined (stat).
Result<std::optional<ConfigExposure>> config_exposure(const Config& config);

// Pure form of the rule: `mode` as st_mode, `owner_uid` the file's owner.
bool config_mode_exposes_secrets(unsigned mode, unsigned owner_uid);

// True when the process's effective user is root.
bool running_as_root();
inline constexpr std::string_view kRunningAsRootAdvice =
    "binlog-relay needs no privileges: run it as an unprivileged account (the Debian package's "
    "binlog-relay user, as its systemd unit does), owning [storage] data_dir";

}  // namespace brelay::relay
