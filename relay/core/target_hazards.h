// TargetHazards: the recent transactions the upstream flagged as hazards for an Azure Database for
// MySQL replica with generated invisible primary keys (GIPK; relay/upstream/gipk_hazard_tracker.h
// decides), each with where its transaction starts (file and position, and its GTID), the table,
// the error the target will stop with and the mitigation from Azure's documentation.
//
// The upstream records a hazard while the transaction is still unwritten, so every dump can know it
// before it reads the transaction. With [server] hold_on_hazard, dumps stop just before an
// unreleased hazard (relay/downstream/dump_gate.h) until an admin runs RELEASE HAZARD '<gtid or
// file:pos>' (release()).
//
// Bounded: the newest kCapacity hazards are kept (the oldest go first, released or not; a dropped
// unreleased one is logged). Kept in memory only: after a restart the hazards of transactions
// stored before it are no longer known, so a hold does not survive a restart (the WARN lines in the
// log still name them). Loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "common/result.h"

namespace brelay::relay {

enum class HazardKind {
  kAddPrimaryKey,          // ERROR 1068: a primary key added to a table that had none
  kAutoIncrementKey,       // ERROR 1075: an AUTO_INCREMENT column added to a table without one
  kPartitionedWithoutKey,  // a partitioned table without a primary key: unsupported under GIPK
};

// The metric label: "add_primary_key", "auto_increment_key", "partitioned_without_primary_key".
std::string_view to_string(HazardKind kind);

struct TargetHazard {
  HazardKind kind = HazardKind::kAddPrimaryKey;
  std::string table;  // "schema.table"
  std::string file;   // where the flagged transaction starts
  std::uint64_t position = 0;
  std::string gtid;  // "" when the source writes none
  std::uint32_t event_timestamp = 0;
  std::string statement;  // cut for display
  bool released = false;

  // "mysql-bin.000003:1234" (and " (GTID 0-1-5)" when there is one).
  std::string where() const;
  // "ERROR 1068 (Multiple primary key defined)" and so on.
  std::string azure_error() const;
  // What to do on the target, from Azure's documentation.
  std::string mitigation() const;
  // One line for the log and the status: kind, table, where, the error and the mitigation.
  std::string describe() const;
};

class TargetHazards {
 public:
  static constexpr std::size_t kCapacity = 64;

  // Keeps `hazard` as the newest; drops the oldest beyond kCapacity.
  void record(TargetHazard hazard);
  // Releases the hazards whose GTID or "file:pos" is `key`; an error (code 1 unknown) when none
  // matches an unreleased one. Returns how many were released.
  Result<std::size_t> release(std::string_view key);
  // An unreleased hazard's transaction starts at `file`:`position` (what a held dump stops before).
  bool held_at(std::string_view file, std::uint64_t position) const;
  std::size_t unreleased() const;
  std::uint64_t recorded_total() const { return recorded_total_; }
  // Oldest first.
  const std::deque<TargetHazard>& recent() const { return recent_; }

 private:
  std::deque<TargetHazard> recent_;
  std::uint64_t recorded_total_ = 0;
};

}  // namespace brelay::relay
