#include "relay/downstream/replica_registry.h"

#include <algorithm>

namespace brelay::relay::downstream {

void ReplicaRegistry::register_replica(RegisteredReplica replica) {
  for (auto it = registered_.begin(); it != registered_.end();) {
    if (it->second.server_id == replica.server_id && it->first != replica.connection_id)
      it = registered_.erase(it);
    else
      ++it;
  }
  registered_[replica.connection_id] = std::move(replica);
}

void ReplicaRegistry::forget_connection(std::uint32_t connection_id) {
  registered_.erase(connection_id);
  end_dump(connection_id);
}

std::vector<RegisteredReplica> ReplicaRegistry::replicas() const {
  std::vector<RegisteredReplica> list;
  for (const auto& [id, replica] : registered_)
    list.push_back(replica);
  std::sort(list.begin(), list.end(),
            [](const RegisteredReplica& a, const RegisteredReplica& b) { return a.server_id < b.server_id; });
  return list;
}

std::vector<std::uint32_t> ReplicaRegistry::start_dump(const ActiveDump& dump) {
  std::vector<std::uint32_t> older;
  for (const auto& [id, other] : dumps_) {
    if (id == dump.connection_id) continue;
    const bool same = !dump.uuid.empty()
                          ? other.uuid == dump.uuid
                          : dump.server_id != 0 && other.uuid.empty() && other.server_id == dump.server_id;
    if (same) older.push_back(id);
  }
  dumps_[dump.connection_id] = dump;
  if (observer_ != nullptr) observer_->on_dump_started(dump);
  return older;
}

void ReplicaRegistry::update_dump(std::uint32_t connection_id, const std::string& file,
                                  std::uint64_t position, std::uint64_t bytes_sent,
                                  std::size_t pending_bytes) {
  const auto it = dumps_.find(connection_id);
  if (it == dumps_.end()) return;
  if (it->second.file != file) it->second.file = file;
  it->second.position = position;
  it->second.bytes_sent = bytes_sent;
  it->second.pending_bytes = pending_bytes;
  if (observer_ != nullptr) observer_->on_dump_moved(it->second);
}

void ReplicaRegistry::acknowledge(std::uint32_t connection_id, const std::string& file,
                                  std::uint64_t position) {
  const auto it = dumps_.find(connection_id);
  if (it == dumps_.end()) return;
  it->second.acknowledged_file = file;
  it->second.acknowledged_position = position;
}

void ReplicaRegistry::end_dump(std::uint32_t connection_id) {
  const auto it = dumps_.find(connection_id);
  if (it == dumps_.end()) return;
  const ActiveDump ended = std::move(it->second);
  dumps_.erase(it);
  if (observer_ != nullptr) observer_->on_dump_ended(ended);
}

std::vector<ActiveDump> ReplicaRegistry::dumps() const {
  std::vector<ActiveDump> list;
  for (const auto& [id, dump] : dumps_)
    list.push_back(dump);
  return list;
}

}  // namespace brelay::relay::downstream
