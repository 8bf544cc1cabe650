#include "storage/reader_registry.h"

namespace brelay::storage {

std::uint64_t ReaderRegistry::add() {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  readers_.emplace(id, std::nullopt);
  return id;
}

void ReaderRegistry::set_file(std::uint64_t id, std::optional<std::uint32_t> file_seq) {
  std::lock_guard lock(mutex_);
  if (auto it = readers_.find(id); it != readers_.end()) it->second = file_seq;
}

void ReaderRegistry::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  readers_.erase(id);
}

std::optional<std::uint32_t> ReaderRegistry::oldest_file() const {
  std::lock_guard lock(mutex_);
  std::optional<std::uint32_t> oldest;
  for (const auto& [id, file_seq] : readers_) {
    if (file_seq && (!oldest || *file_seq < *oldest)) oldest = file_seq;
  }
  return oldest;
}

std::size_t ReaderRegistry::reading(std::uint32_t file_seq) const {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& [id, seq] : readers_) {
    if (seq == file_seq) ++count;
  }
  return count;
}

std::size_t ReaderRegistry::size() const {
  std::lock_guard lock(mutex_);
  return readers_.size();
}

}  // namespace brelay::storage
