#include "relay/core/target_hazards.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace brelay::relay {

std::string_view to_string(HazardKind kind) {
  switch (kind) {
    case HazardKind::kAddPrimaryKey: return "add_primary_key";
    case HazardKind::kAutoIncrementKey: return "auto_increment_key";
    case HazardKind::kPartitionedWithoutKey: return "partitioned_without_primary_key";
  }
  return "unknown";
}

std::string TargetHazard::where() const {
  std::string out = fmt::format("{}:{}", file, position);
  if (!gtid.empty()) out += fmt::format(" (GTID {})", gtid);
  return out;
}

std::string TargetHazard::azure_error() const {
  switch (kind) {
    case HazardKind::kAddPrimaryKey: return "ERROR 1068 (Multiple primary key defined)";
    case HazardKind::kAutoIncrementKey:
      return "ERROR 1075 (Incorrect table definition; there can be only one auto column and it must be "
             "defined as a key)";
    case HazardKind::kPartitionedWithoutKey:
      return "an error: a partitioned table without a primary key is not supported with "
             "sql_generate_invisible_primary_key = ON (the invisible key is not in the partitioning "
             "function, ERROR 1503)";
  }
  return "an error";
}

std::string TargetHazard::mitigation() const {
  std::string skip =
      gtid.empty() || gtid.find(':') == std::string::npos
          ? "then CALL mysql.az_replication_skip_counter; (it skips this one transaction, already applied by "
            "hand) and CALL mysql.az_replication_start;"
          : fmt::format(
                "then CALL mysql.az_replication_skip_gtid_transaction('{}'); and CALL "
                "mysql.az_replication_start;",
                gtid);
  switch (kind) {
    case HazardKind::kAddPrimaryKey:
      return fmt::format(
          "on the target, before the replica applies it: ALTER TABLE {} DROP COLUMN my_row_id, <the "
          "statement's ADD PRIMARY KEY (...)>; {}",
          table, skip);
    case HazardKind::kAutoIncrementKey:
      return fmt::format(
          "on the target: SET SESSION sql_generate_invisible_primary_key = OFF; ALTER TABLE {} DROP COLUMN "
          "my_row_id (or give it an explicit primary key), run the statement by hand; {}",
          table, skip);
    case HazardKind::kPartitionedWithoutKey:
      return fmt::format(
          "on the target: SET SESSION sql_generate_invisible_primary_key = OFF; run the statement by hand "
          "(or set the server parameter sql_generate_invisible_primary_key = OFF before the DDL); {}",
          skip);
  }
  return skip;
}

std::string TargetHazard::describe() const {
  return fmt::format("{} on {} at {}: an Azure replica with invisible primary keys (GIPK) stops with {}; {}",
                     to_string(kind), table, where(), azure_error(), mitigation());
}

void TargetHazards::record(TargetHazard hazard) {
  ++recorded_total_;
  recent_.push_back(std::move(hazard));
  while (recent_.size() > kCapacity) {
    if (!recent_.front().released) {
      spdlog::warn(
          "target hazards: more than {} kept, the oldest unreleased one at {} is forgotten (its "
          "hold ends)",
          kCapacity, recent_.front().where());
    }
    recent_.pop_front();
  }
}

Result<std::size_t> TargetHazards::release(std::string_view key) {
  std::size_t released = 0;
  for (TargetHazard& hazard : recent_) {
    if (hazard.released) continue;
    if ((!hazard.gtid.empty() && hazard.gtid == key) ||
        fmt::format("{}:{}", hazard.file, hazard.position) == key) {
      hazard.released = true;
      ++released;
    }
  }
  if (released == 0) {
    return make_error(
        "no unreleased hazard at '{}': give the GTID or the file:position that SHOW RELAY STATUS lists for "
        "it",
        key);
  }
  return released;
}

bool TargetHazards::held_at(std::string_view file, std::uint64_t position) const {
  return std::any_of(recent_.begin(), recent_.end(), [&](const TargetHazard& hazard) {
    return !hazard.released && hazard.position == position && hazard.file == file;
  });
}

std::size_t TargetHazards::unreleased() const {
  return static_cast<std::size_t>(
      std::count_if(recent_.begin(), recent_.end(), [](const TargetHazard& h) { return !h.released; }));
}

}  // namespace brelay::relay
