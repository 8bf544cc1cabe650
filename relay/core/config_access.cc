#include "relay/core/config_access.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace brelay::relay {
namespace {

std::string user_name(uid_t uid) {
  const passwd* entry = ::getpwuid(uid);
  return entry != nullptr ? std::string(entry->pw_name) : std::to_string(uid);
}

std::string group_name(gid_t gid) {
  const group* entry = ::getgrgid(gid);
  return entry != nullptr ? std::string(entry->gr_name) : std::to_string(gid);
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

bool config_mode_exposes_secrets(unsigned mode, unsigned owner_uid) {
  if ((mode & S_IROTH) != 0) return true;
  return (mode & S_IRGRP) != 0 && owner_uid != 0;
}

Result<std::optional<ConfigExposure>> config_exposure(const Config& config) {
  if (config.inline_secrets.empty()) return std::optional<ConfigExposure>();
  struct stat file {};
  if (::stat(config.path.c_str(), &file) != 0) {
    return make_error("cannot examine {}: {}", config.path, std::strerror(errno));
  }
  if (!config_mode_exposes_secrets(file.st_mode, file.st_uid)) return std::optional<ConfigExposure>();
  const std::string readers = (file.st_mode & S_IROTH) != 0
                                  ? std::string("every user of this host")
                                  : fmt::format("the members of group {}", group_name(file.st_gid));
  ConfigExposure exposure;
  exposure.problem =
      fmt::format("{} holds plain-text secrets ({}) and is readable by {} (mode {:04o}, owner {}:{})",
                  config.path, joined(config.inline_secrets), readers, file.st_mode & 07777,
                  user_name(file.st_uid), group_name(file.st_gid));
  exposure.fix = fmt::format(
      "make it readable by the relay's account only: `chmod 600 {0}` (and `chown <relay user> {0}`), "
      "or `chown root:<relay group> {0}; chmod 640 {0}`; or move the secrets out of it (password_file, "
      "status_token_file, native_hash / sha2_hash from `binlog-relay hash-password`). "
      "`binlog-relay run --allow-insecure-config` starts anyway",
      config.path);
  return std::optional<ConfigExposure>(std::move(exposure));
}

bool running_as_root() {
  return ::geteuid() == 0;
}

}  // namespace brelay::relay
