#include "relay/checks/local_checks.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "net/ip_range.h"
#include "relay/checks/certificate_info.h"
#include "relay/core/config_access.h"

namespace brelay::relay {
namespace {

std::string utc_date(std::int64_t seconds) {
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&time, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min);
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  double value = static_cast<double>(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string format_seconds(std::int64_t seconds) {
  if (seconds == 0) return "0s";
  if (seconds % 86400 == 0) return fmt::format("{}d", seconds / 86400);
  if (seconds % 3600 == 0) return fmt::format("{}h", seconds / 3600);
  if (seconds % 60 == 0) return fmt::format("{}m", seconds / 60);
  return fmt::format("{}s", seconds);
}

void check_certificate(const Config& config, std::int64_t now, Checklist& checklist) {
  const ServerConfig& server = config.server;
  if (server.tls_cert.empty()) {
    checklist.warn("certificate", "[server] tls_cert is not set: replicas connect to the relay without TLS",
                   "set [server] tls_cert and tls_key (a PEM chain and its key) so that Azure Data-in "
                   "replication and other replicas can use TLS with the CA passed as ssl_ca");
    return;
  }
  auto info = inspect_certificate(server.tls_cert, server.tls_key);
  if (!info) {
    checklist.fail(
        "certificate", info.error().message(),
        "point [server] tls_cert and tls_key at a readable PEM certificate chain and its private key");
    return;
  }
  const std::string what = fmt::format("{} ({}, {} certificate{}), valid {} to {}", server.tls_cert,
                                       info->subject, info->chain_length, info->chain_length == 1 ? "" : "s",
                                       utc_date(info->not_before), utc_date(info->not_after));
  if (!info->key_matches) {
    checklist.fail(
        "certificate", fmt::format("{}: {} is not its private key", what, server.tls_key),
        "set [server] tls_key to the key the certificate was issued for (or reissue the certificate)");
  } else if (now < info->not_before) {
    checklist.fail("certificate", fmt::format("{}: not valid yet", what),
                   "check the host's clock, or use a certificate that is valid now");
  } else if (now >= info->not_after) {
    checklist.fail("certificate", fmt::format("{}: expired", what),
                   "renew the certificate, then send the relay SIGHUP (systemctl reload binlog-relay)");
  } else if (info->not_after - now < kCertificateWarningSeconds) {
    checklist.warn("certificate",
                   fmt::format("{}: expires in {} day(s)", what, (info->not_after - now) / 86400),
                   "renew it before it expires, then send the relay SIGHUP (systemctl reload binlog-relay)");
  } else {
    checklist.ok("certificate", fmt::format("{}; the key matches", what));
  }
}

void check_free_disk(const Config& config, Checklist& checklist) {
  std::filesystem::path directory(config.storage.data_dir);
  std::error_code ec;
  while (!directory.empty() && !std::filesystem::exists(directory, ec) && directory != directory.root_path())
    directory = directory.parent_path();
  struct statvfs fs {};
  if (directory.empty() || statvfs(directory.c_str(), &fs) != 0) {
    checklist.fail("free disk", fmt::format("cannot read the filesystem of {}", config.storage.data_dir),
                   "create [storage] data_dir and let the relay's user read it");
    return;
  }
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  const std::string where =
      fmt::format("{} free on the filesystem of {}", format_bytes(free_bytes), config.storage.data_dir);
  if (free_bytes < kMinimumFreeBytes) {
    checklist.fail("free disk", where,
                   fmt::format("free at least {} (the relay pauses pulling when the disk fills)",
                               format_bytes(kMinimumFreeBytes)));
  } else if (config.storage.retention_size != 0 && free_bytes < config.storage.retention_size) {
    checklist.warn("free disk",
                   fmt::format("{}, less than [storage] retention_size = {}", where,
                               format_bytes(config.storage.retention_size)),
                   "grow the disk or lower retention_size: otherwise the disk, not retention, bounds what "
                   "the relay keeps");
  } else {
    checklist.ok("free disk", where);
  }
}

void check_config_access(const Config& config, Checklist& checklist) {
  auto exposure = config_exposure(config);
  if (!exposure) {
    checklist.fail("config access", exposure.error().message(), "let the relay's account read the file");
  } else if (*exposure) {
    checklist.fail("config access", (*exposure)->problem + ": `binlog-relay run` refuses it",
                   (*exposure)->fix);
  } else if (config.inline_secrets.empty()) {
    checklist.ok("config access", fmt::format("{} holds no plain-text secret", config.path));
  } else {
    checklist.ok("config access",
                 fmt::format("{} holds plain-text secrets and other users cannot read it", config.path));
  }
}

void check_process_user(Checklist& checklist) {
  if (running_as_root()) {
    checklist.warn("process user", "running as root (uid 0)", std::string(kRunningAsRootAdvice));
  } else {
    checklist.ok("process user", fmt::format("running as uid {}, not root", ::geteuid()));
  }
}

void check_logins(const Config& config, Checklist& checklist) {
  const ServerConfig& server = config.server;
  checklist.ok(
      "logins",
      fmt::format(
          "at most {} sessions (+1 for an admin), {} still logging in, each within {}; an "
          "address is blocked after {} failed logins in a row (FLUSH HOSTS unblocks)",
          server.max_connections, server.max_unauthenticated_connections,
          format_seconds(std::chrono::duration_cast<std::chrono::seconds>(server.connect_timeout).count()),
          server.max_connect_errors));
  for (const UserConfig& user : config.users) {
    for (const std::string& entry : user.hosts) {
      if (entry == "%" || net::IpRange::parse(entry)) continue;
      addrinfo hints{};
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* list = nullptr;
      const int rc = ::getaddrinfo(entry.c_str(), nullptr, &hints, &list);
      if (list != nullptr) ::freeaddrinfo(list);
      const std::string name = fmt::format("user {} hosts", user.name);
      if (rc != 0) {
        checklist.warn(
            name, fmt::format("'{}' does not resolve ({}): it matches no client", entry, gai_strerror(rc)),
            "fix the name or write the replica's address or CIDR range instead");
      } else {
        checklist.ok(name, fmt::format("'{}' resolves", entry));
      }
    }
  }
}

}  // namespace brelay::relay
