// DirectoryLock: an exclusive flock(2) on a lock file in a data directory, held for the owner's
// lifetime, so that only one process (and one BinlogStore in it) writes a store at a time. The
// kernel drops the lock when the process dies, so a crash never leaves it behind. Move-only.
#pragma once

#include <string>

#include "common/result.h"

namespace brelay::storage {

class DirectoryLock {
 public:
  // Creates (if needed) and locks `directory`/`name`; an error names the directory when another
  // holder has it.
  static Result<DirectoryLock> acquire(const std::string& directory, const std::string& name);

  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace brelay::storage
