#include "tests/support/temp_dir.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace brelay::testing {

Result<TempDir> TempDir::create(std::string_view label) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/brelay-{}-XXXXXX", base != nullptr && *base ? base : "/tmp", label);
  if (mkdtemp(pattern.data()) == nullptr) {
    return make_error("creating a temporary directory {}: {}", pattern, std::strerror(errno));
  }
  return TempDir(pattern);
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  remove();
}

void TempDir::remove() {
  if (path_.empty()) return;
  const char* keep = std::getenv("BRELAY_KEEP_TEMP");
  if (keep == nullptr || std::string_view(keep) != "1") {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  path_.clear();
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read {}: {}", path, std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

Status write_file(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return make_error("cannot write {}: {}", path, std::strerror(errno));
  // Private, as a configuration holding passwords must be (binlog-relay run refuses one that
  // other users may read).
  if (::chmod(path.c_str(), 0600) != 0) return make_error("chmod 600 {}: {}", path, std::strerror(errno));
  return {};
}

Result<std::uint16_t> free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("socket: {}", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    return make_error("finding a free loopback port: {}", std::strerror(err));
  }
  ::close(fd);
  return static_cast<std::uint16_t>(ntohs(addr.sin_port));
}

}  // namespace brelay::testing
