// How many seconds of history a remembered replica can still fall behind before retention or the
// disk drops what it needs (binlog_relay_replica_retention_headroom_seconds). An estimate, from:
//  - the write rate: the stored files' bytes over the time from the oldest file's creation to the
//    newest write (the average over the retained history; 0 when that span is empty);
//  - retention's limits applied to the replica's file F: by age, F goes retention_time after its
//    last write; by size, F goes once the bytes from F to the end exceed retention_size, which
//    the write rate reaches in (retention_size - those bytes) / rate seconds;
//  - protect_replicas: a connected replica's file is never purged by retention; a disconnected one
//    is kept until replica_grace after it was last seen, then the limits apply (so the later of
//    the two counts);
//  - the disk: at the write rate the filesystem's free bytes fall to the disk guard's threshold in
//    (free - guard) / rate seconds, when retention stops keeping files for remembered replicas
//    (a connected replica keeps its file, but the relay then stops storing).
// The smallest of what applies; +infinity when nothing limits it, 0 when F is no longer stored.
// Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/store_types.h"

namespace brelay::relay {

// The disk guard: when the data directory's filesystem has less than this free, or the storage
// writer has stopped (full disk or map), retention purges by its limits alone and keeps nothing
// for disconnected remembered replicas (logged as an ERROR and counted): the relay must go on
// storing. Connected replicas keep their file as always.
inline constexpr std::uint64_t kDiskGuardFreeBytes = std::uint64_t{256} << 20;
inline bool disk_guard_trips(std::uint64_t free_bytes, bool writer_accepting) {
  return !writer_accepting || free_bytes < kDiskGuardFreeBytes;
}

struct HeadroomInputs {
  const std::vector<storage::FileInfo>* files = nullptr;  // the stored files, oldest first
  std::string file;                                       // where the replica's stream continues
  bool connected = false;
  std::int64_t last_seen = 0;  // relay clock, Unix seconds
  std::int64_t now = 0;
  bool protect_replicas = true;
  std::int64_t grace_seconds = 0;
  std::int64_t max_age_seconds = 0;    // retention_time; 0: no age limit
  std::uint64_t max_total_bytes = 0;   // retention_size; 0: no size limit
  std::uint64_t free_bytes = 0;        // on the data directory's filesystem
  std::uint64_t guard_free_bytes = 0;  // the disk guard's threshold
};

// Bytes per second at which the retained files were written (0: unknown).
double store_write_rate(const std::vector<storage::FileInfo>& files);

double retention_headroom_seconds(const HeadroomInputs& inputs);

}  // namespace brelay::relay
