// Temporary directories for tests, removed with everything in them when the TempDir goes away
// (kept when BRELAY_KEEP_TEMP=1, for post-mortems). Plus small file and port helpers.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace brelay::testing {

class TempDir {
 public:
  // Creates $TMPDIR/brelay-<label>-XXXXXX (TMPDIR defaults to /tmp).
  static Result<TempDir> create(std::string_view label);

  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void remove();
  std::string path_;
};

Result<std::string> read_file(const std::string& path);
// Writes `contents` to `path`, mode 0600 (configurations hold passwords).
Status write_file(const std::string& path, std::string_view contents);

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
Result<std::uint16_t> free_loopback_port();

}  // namespace brelay::testing
