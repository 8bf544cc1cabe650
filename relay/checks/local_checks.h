// Checks of the relay's own host for `binlog-relay check`: its TLS certificate ([server] tls_cert
// and tls_key: readable, valid now, not expiring within 30 days, the key matching it), the free
// space on the filesystem of [storage] data_dir, who may read the configuration file and who runs
// the relay (config_access.h), and the login limits. Any thread.
#pragma once

#include <cstdint>

#include "relay/checks/preflight.h"
#include "relay/core/config.h"

namespace brelay::relay {

inline constexpr std::int64_t kCertificateWarningSeconds = 30 * 86400;
inline constexpr std::uint64_t kMinimumFreeBytes = std::uint64_t{1} << 30;

// `now` in Unix seconds.
void check_certificate(const Config& config, std::int64_t now, Checklist& checklist);

// Free bytes on the filesystem of `data_dir` (or of its nearest existing parent, before the relay
// created it); WARN and FAIL thresholds: retention_size, kMinimumFreeBytes.
void check_free_disk(const Config& config, Checklist& checklist);

// FAIL when the configuration file holds plain-text secrets and others may read it (`run` refuses
// such a file), OK otherwise.
void check_config_access(const Config& config, Checklist& checklist);

// WARN when this process runs as root (`run` logs the same warning), OK otherwise.
void check_process_user(Checklist& checklist);

// The login limits of [server] (an OK line saying what they are), and [[users]] hosts entries that
// are host names: WARN for one that does not resolve (blocking DNS: `check` only).
void check_logins(const Config& config, Checklist& checklist);

// "1.5 GiB", "300 MiB", "12 KiB", "42 bytes".
std::string format_bytes(std::uint64_t bytes);
// "7d", "36h", "90m", "45s" (the largest whole unit), "0s".
std::string format_seconds(std::int64_t seconds);

}  // namespace brelay::relay
