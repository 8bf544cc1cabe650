// What SHOW RELAY STATUS, GET /status and `binlog-relay status` show an operator: the upstream (state,
// last error, source coordinates against what is stored, seconds behind the source, bytes
// received), the store (durable end, size, oldest retained file and its time, free disk, the writer),
// retention, and every replica's dump (its position, how far behind the durable end it is in
// seconds and bytes, bytes sent). Rows of (name, value) in a fixed order, readable in the `mariadb`
// client and as text.
//
// Loop thread (the inputs are the loop thread's components); the store reads are short read
// transactions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "relay/downstream/replica_registry.h"
#include "relay/upstream/upstream_status.h"
#include "storage/binlog_store.h"
#include "storage/store_writer.h"

namespace brelay::relay {

using StatusRows = std::vector<std::pair<std::string, std::string>>;

// How far a reader at (file, position) is behind the store's durable end.
struct ReplicaLag {
  std::uint64_t bytes = 0;              // stored event bytes it has not read
  std::optional<std::int64_t> seconds;  // durable end's timestamp minus its next event's; 0 when caught up
};
// `files` is the store's file list (BinlogStore::list_files), read once by callers asking for several
// readers.
Result<ReplicaLag> replica_lag(storage::BinlogStore& store, const std::vector<storage::FileInfo>& files,
                               const std::optional<storage::ResumePoint>& durable_end,
                               const std::string& file, std::uint64_t position);
// The same, listing the files itself.
Result<ReplicaLag> replica_lag(storage::BinlogStore& store,
                               const std::optional<storage::ResumePoint>& durable_end,
                               const std::string& file, std::uint64_t position);

struct RelayStatusInputs {
  storage::BinlogStore* store = nullptr;
  const UpstreamStatus* upstream = nullptr;                // null: no upstream configured or running
  const storage::StoreWriter::Progress* writer = nullptr;  // the newest writer progress
  const downstream::ReplicaRegistry* replicas = nullptr;   // null: the listener is not open
  std::size_t sessions = 0;                                // client sessions logged in or logging in
  std::string retention;                                   // the policy in words
  std::string retention_last;                              // the last purge's outcome
};

StatusRows relay_status_rows(const RelayStatusInputs& inputs);

// "name: value" lines, names padded to one column.
std::string format_status_rows(const StatusRows& rows);

// 1536 -> "1.5 KiB".
std::string human_bytes(std::uint64_t bytes);

}  // namespace brelay::relay
