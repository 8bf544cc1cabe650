// Retention: purges whole binlog files from the front of the store, by age and total size (the
// [storage] retention_time / retention_size settings, checked periodically by the relay) or
// explicitly (PURGE BINARY LOGS TO 'file' / BEFORE 'time'). It never purges the newest file (the
// one being written), and while protect_readers (protect_replicas) is on it never purges the file a
// registered StoreReader is reading, nor anything after it. With protect_replicas_seen_since set
// it also keeps, for every remembered replica (BinlogStore::replica_records) last seen at or after
// that time, the file its stream continues in and everything after it, connected or not (the
// relay sets it from [storage] replica_grace and leaves it unset when the disk must be freed). A
// damaged replica record fails such a purge: nothing is purged that a replica might need. It
// reports what went and the purged GTID set: the previous-GTID blob of the oldest file left, which
// is what @@gtid_purged means.
//
// Age is the relay's clock: a file's age is measured from its last write (FileInfo::
// last_write_time), as MySQL measures a binlog file's age by its modification time, so a backlog
// pulled today from an old source is kept for the full retention time. The age and size rules
// combine: a file goes when it is older than the age limit OR while the total exceeds the size
// limit, oldest first, stopping at the first file that stays.
//
// Threads: any thread. Each file is removed in its own write transaction, which waits for the
// writer's commit in progress (LMDB allows one writer at a time); StoreWriter::request_purge runs
// it on the writer thread so the loop thread never waits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace brelay::storage {

class BinlogStore;

struct RetentionPolicy {
  std::int64_t max_age_seconds = 0;   // 0: no age limit
  std::uint64_t max_total_bytes = 0;  // 0: no size limit
};

struct PurgeRequest {
  enum class Kind { kPolicy, kToFile, kBeforeTime };

  Kind kind = Kind::kPolicy;
  RetentionPolicy policy;        // kPolicy
  std::string to_file;           // kToFile: every file before this one goes (not the file itself)
  std::int64_t before_time = 0;  // kBeforeTime: files last written before this time (Unix seconds) go
  std::int64_t now = 0;          // kPolicy's "now" (Unix seconds); 0: the store's clock
  bool protect_readers = true;   // false ("forced"): purge files registered readers are reading
  // Remembered replicas last seen at or after this time (Unix seconds) keep what they need;
  // nullopt: remembered replicas keep nothing.
  std::optional<std::int64_t> protect_replicas_seen_since;

  static PurgeRequest by_policy(RetentionPolicy policy, bool protect_readers = true);
  static PurgeRequest to(std::string file, bool protect_readers = true);
  static PurgeRequest before(std::int64_t time, bool protect_readers = true);
};

struct PurgeReport {
  std::vector<std::string> purged_files;  // oldest first
  std::uint64_t purged_bytes = 0;         // event bytes of the purged files
  Bytes purged_gtid_set;                  // previous-GTID blob of the oldest file left
  // The file a registered reader is reading, when it stopped a purge that would have gone further.
  std::optional<std::string> kept_for_reader;
  // The remembered replica (server_id) whose file (kept_for_replica_file) stopped the purge.
  std::optional<std::uint32_t> kept_for_replica;
  std::string kept_for_replica_file;
};

class Retention {
 public:
  // Plans and runs a purge. An unknown file name (kToFile) is an error and purges nothing.
  static Result<PurgeReport> purge(BinlogStore& store, const PurgeRequest& request);
};

}  // namespace brelay::storage
