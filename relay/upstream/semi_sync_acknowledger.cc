#include "relay/upstream/semi_sync_acknowledger.h"

namespace brelay::relay {

void SemiSyncAcknowledger::note_file(std::uint64_t ordinal, std::string_view name) {
  if (!files_.empty() && files_.back().first == ordinal) {
    files_.back().second = std::string(name);
    return;
  }
  files_.emplace_back(ordinal, std::string(name));
}

void SemiSyncAcknowledger::request(std::uint64_t ordinal, std::uint64_t position) {
  pending_.push_back(Pending{ordinal, position});
}

std::optional<net::SemiSyncAck> SemiSyncAcknowledger::due(const storage::ResumePoint& durable_end) {
  if (pending_.empty()) return std::nullopt;
  std::optional<std::uint64_t> durable_ordinal;
  for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
    if (it->second == durable_end.file) {
      durable_ordinal = it->first;
      break;
    }
  }
  // A durable end in a file older than every noted one covers nothing pending.
  if (!durable_ordinal) return std::nullopt;
  std::optional<Pending> newest;
  while (!pending_.empty()) {
    const Pending& front = pending_.front();
    const bool covered = front.ordinal < *durable_ordinal ||
                         (front.ordinal == *durable_ordinal && front.position <= durable_end.position);
    if (!covered) break;
    newest = front;
    pending_.pop_front();
  }
  if (!newest) return std::nullopt;
  net::SemiSyncAck ack;
  ack.position = newest->position;
  for (const auto& [ordinal, name] : files_) {
    if (ordinal == newest->ordinal) ack.file_name = name;
  }
  // Names of files before the oldest one still needed are no longer looked up.
  const std::uint64_t keep_from = pending_.empty() ? *durable_ordinal : pending_.front().ordinal;
  while (files_.size() > 1 && files_.front().first < keep_from)
    files_.pop_front();
  return ack;
}

void SemiSyncAcknowledger::clear() {
  pending_.clear();
}

void SemiSyncAcknowledger::reset() {
  pending_.clear();
  files_.clear();
}

}  // namespace brelay::relay
