// ReaderRegistry: which stored file each registered reader (a downstream session's StoreReader)
// is reading, so retention never purges a file a replica still needs while protect_replicas is
// on. Thread-safe: readers update it from the loop thread, retention reads it from wherever it
// runs.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

namespace brelay::storage {

class ReaderRegistry {
 public:
  // Registers a reader that reads no file yet; returns its id.
  std::uint64_t add();
  // Records the file sequence the reader is reading now (nullopt: none).
  void set_file(std::uint64_t id, std::optional<std::uint32_t> file_seq);
  void remove(std::uint64_t id);
  // The oldest file any registered reader is reading, if any reads one.
  std::optional<std::uint32_t> oldest_file() const;
  std::size_t size() const;
  // How many registered readers are reading file `file_seq`.
  std::size_t reading(std::uint32_t file_seq) const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 1;                                      // guarded by mutex_
  std::map<std::uint64_t, std::optional<std::uint32_t>> readers_;  // guarded by mutex_
};

}  // namespace brelay::storage
